using System.Text.Json.Serialization;

namespace WriteTracer.Api;

/// <summary>The body of a successful POST /pids, /pids/self or /pids/parent.</summary>
/// <param name="ThreadCount">Threads of the registered process and of the descendants tracked with it, named as GET /pids names them.</param>
/// <param name="NsPid">The process's pid in the caller's pid namespace, when the caller is in another one than the tracer.</param>
internal sealed record RegisteredResponse(int Pid, int ThreadCount, string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? NsPid = null)
{
    /// <summary>Deprecated: <see cref="ThreadCount"/> under its first name, kept for one release.</summary>
    public int Threads => ThreadCount;
}
