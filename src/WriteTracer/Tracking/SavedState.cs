namespace WriteTracer.Tracking;

/// <summary>What a state file holds, as <see cref="RegistryFile.Load"/> reads it.</summary>
internal sealed record SavedState(IReadOnlyList<RootProcess> Roots, IReadOnlyList<SavedCgroup> Cgroups)
{
    public static SavedState Empty { get; } = new([], []);
}
