namespace WriteTracer.Tracking;

/// <summary>The state file's content (<see cref="RegistryFile"/>).</summary>
/// <param name="Cgroups">Absent in files written before cgroups could be registered.</param>
internal sealed record SavedRegistry(int Version, IReadOnlyList<SavedRoot>? Roots, IReadOnlyList<SavedCgroup>? Cgroups = null);
