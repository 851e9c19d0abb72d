namespace WriteTracer.Api;

/// <summary>The body of a successful POST /pids.</summary>
/// <param name="ThreadCount">Threads of the registered process and of the descendants tracked with it, named as GET /pids names them.</param>
internal sealed record RegisteredResponse(int Pid, int ThreadCount, string Message)
{
    /// <summary>Deprecated: <see cref="ThreadCount"/> under its first name, kept for one release.</summary>
    public int Threads => ThreadCount;
}
