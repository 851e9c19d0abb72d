using WriteTracer.Tracking;

namespace WriteTracer.Api;

/// <summary>A registered process, as GET /pids and GET /pids/{pid} show it.</summary>
/// <param name="ThreadCount">Threads of the process and its tracked descendants.</param>
/// <param name="ProcessCount">Processes of the tree (the root included).</param>
internal sealed record ProcessResponse(int Pid, int ThreadCount, int ProcessCount, DateTime RegisteredAt)
{
    public static ProcessResponse From(RootProcess root) =>
        new(root.Pid, root.ThreadCount, root.ProcessCount, root.RegisteredAt.UtcDateTime);
}
