using WriteTracer.Native;

namespace WriteTracer.Bpf;

/// <summary>
/// The kernel's tracked_bits map, mapped into this process: bit tgid % 64 of word tgid / 64
/// says whether a TGID may be in the tracked map, so the kernel's per-write test is an array
/// load. The kernel sets and clears bits with atomic operations (track, untrack); so does
/// this, on the same memory, so neither loses the other's bits in a shared word.
/// </summary>
internal sealed unsafe class TrackedBitmap : IDisposable
{
    private const int BitsPerWord = 64;

    private readonly SafeMemoryMapHandle _mapping;
    private readonly ulong* _words;
    private readonly uint _wordCount;

    /// <param name="wordCount">The map's max_entries (one 64-bit word each).</param>
    public TrackedBitmap(int mapFd, uint wordCount)
    {
        var page = (nuint)Environment.SystemPageSize;
        var bytes = ((nuint)wordCount * sizeof(ulong) + page - 1) / page * page;
        _mapping = SafeMemoryMapHandle.Map(mapFd, bytes, 0, writable: true, "mapping the tracked bitmap");
        _words = (ulong*)_mapping.Address;
        _wordCount = wordCount;
    }

    /// <summary>Words for every process id below pid_max.</summary>
    public static uint WordsFor(int pidMax) => (uint)((pidMax + BitsPerWord - 1) / BitsPerWord);

    /// <summary>Before the TGID enters the tracked map. Beyond the bitmap nothing is needed: the kernel asks the hash.</summary>
    public void Set(int tgid)
    {
        var word = Word(tgid);
        if (word != null)
        {
            Interlocked.Or(ref *word, Bit(tgid));
        }
    }

    /// <summary>After the TGID has left the tracked map.</summary>
    public void Clear(int tgid)
    {
        var word = Word(tgid);
        if (word != null)
        {
            Interlocked.And(ref *word, ~Bit(tgid));
        }
    }

    public void Dispose() => _mapping.Dispose();

    private ulong* Word(int tgid) => (uint)tgid / BitsPerWord < _wordCount ? _words + (uint)tgid / BitsPerWord : null;

    private static ulong Bit(int tgid) => 1ul << (tgid % BitsPerWord);
}
