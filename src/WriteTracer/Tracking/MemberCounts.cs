namespace WriteTracer.Tracking;

/// <summary>
/// One registration's share of the <see cref="TrackedSet"/>: its member processes and their
/// threads, kept up to date as the kernel reports forks, threads and exits. Read without the
/// set's lock (the REST API, /metrics).
/// </summary>
internal sealed class MemberCounts
{
    private int _processes;
    private int _threads;

    /// <summary>The member processes (under the set's lock).</summary>
    internal HashSet<int> Pids { get; } = [];

    public int Processes => Volatile.Read(ref _processes);

    public int Threads => Volatile.Read(ref _threads);

    internal void Add(int processes, int threads)
    {
        Volatile.Write(ref _processes, _processes + processes);
        Volatile.Write(ref _threads, _threads + threads);
    }
}
