namespace WriteTracer.Tracking;

/// <summary>A registered cgroup in the state file (<see cref="RegistryFile"/>).</summary>
/// <param name="Path">Relative to the cgroup v2 mount.</param>
/// <param name="Id">The cgroup id: a directory created again under the path is another cgroup.</param>
internal sealed record SavedCgroup(string Path, ulong Id, DateTime RegisteredAt, int RegisteredByUid, bool Administrator);
