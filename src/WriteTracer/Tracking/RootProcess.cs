namespace WriteTracer.Tracking;

/// <summary>A registered process: the root of a traced tree.</summary>
internal sealed class RootProcess(int pid, ulong startTime, string comm, DateTimeOffset registeredAt, Registrant registrant)
{
    public int Pid => pid;

    /// <summary>With the pid, the process's identity: a reused pid has another start time.</summary>
    public ulong StartTime => startTime;

    public string Comm => comm;

    public DateTimeOffset RegisteredAt => registeredAt;

    public Registrant Registrant => registrant;

    /// <summary>Processes of the tree in the tracked map (the root included), as of the last count.</summary>
    public int ProcessCount { get; internal set; }

    /// <summary>Threads of those processes, as of the last count.</summary>
    public int ThreadCount { get; internal set; }
}
