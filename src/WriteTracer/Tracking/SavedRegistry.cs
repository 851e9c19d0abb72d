namespace WriteTracer.Tracking;

/// <summary>The state file's content (<see cref="RegistryFile"/>).</summary>
internal sealed record SavedRegistry(int Version, IReadOnlyList<SavedRoot>? Roots);
