namespace WriteTracer.Api;

/// <summary>The body of a successful POST /pids.</summary>
/// <param name="Threads">Threads of the registered process and of the descendants tracked with it.</param>
internal sealed record RegisteredResponse(int Pid, int Threads, string Message);
