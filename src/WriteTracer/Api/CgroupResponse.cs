using WriteTracer.Tracking;

namespace WriteTracer.Api;

/// <summary>A registered cgroup, as GET /cgroups shows it.</summary>
/// <param name="Path">Relative to the cgroup v2 mount, as events show it.</param>
/// <param name="Id">The kernel's cgroup id (the directory's inode number): DELETE /cgroups/{id} takes it.</param>
/// <param name="ProcessCount">Processes traced through it.</param>
internal sealed record CgroupResponse(string Path, ulong Id, int ProcessCount, DateTime RegisteredAt)
{
    public static CgroupResponse From(RegisteredCgroup cgroup) =>
        new(cgroup.Name, cgroup.Id, cgroup.ProcessCount, cgroup.RegisteredAt.UtcDateTime);
}
