namespace WriteTracer.Api;

/// <summary>The body of GET /cgroups: every registered cgroup, oldest registration first.</summary>
internal sealed record CgroupListResponse(IReadOnlyList<CgroupResponse> Cgroups, int Total);
