namespace WriteTracer.Api;

/// <summary>The body of a successful POST /cgroups.</summary>
/// <param name="ProcessCount">Processes of its subtree traced from now on.</param>
internal sealed record CgroupRegisteredResponse(string Path, ulong Id, int ProcessCount, string Message);
