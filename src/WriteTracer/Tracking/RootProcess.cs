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

    /// <summary>Its tree's share of the tracked set, once registered.</summary>
    internal MemberCounts Members { get; set; } = new();

    /// <summary>Processes of the tree in the tracked map (the root included).</summary>
    public int ProcessCount => Members.Processes;

    /// <summary>Threads of those processes.</summary>
    public int ThreadCount => Members.Threads;
}
