using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>
/// The kernel's tracked_generation word, mapped into this process: bumped after every change
/// user space makes to the tracked map, as the kernel's track() and untrack() bump it, so the
/// write hooks' remembered lookups (one per CPU) are not reused past the change. The bump is
/// atomic on the shared word, so neither side loses the other's.
/// </summary>
internal sealed unsafe class TrackedGeneration : IDisposable
{
    private readonly SafeMemoryMapHandle _mapping;
    private readonly ulong* _word;

    public TrackedGeneration(int mapFd)
    {
        _mapping = SafeMemoryMapHandle.Map(mapFd, (nuint)Environment.SystemPageSize, 0, writable: true,
            "mapping the tracked map's generation");
        _word = (ulong*)_mapping.Address;
    }

    /// <summary>After the tracked map has changed.</summary>
    public void Bump() => Interlocked.Increment(ref *_word);

    public void Dispose() => _mapping.Dispose();
}
