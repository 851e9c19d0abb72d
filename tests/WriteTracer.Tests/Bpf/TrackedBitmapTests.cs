using WriteTracer.Bpf;

namespace WriteTracer.Tests.Bpf;

/// <summary>
/// The tracked bitmap over a file mapped as the kernel's array map is (MAP_SHARED, one page):
/// bit pid % 64 of the little-endian word pid / 64, and nothing written beyond its words.
/// </summary>
public sealed class TrackedBitmapTests : IDisposable
{
    private const uint Words = 4; // pids 0..255; the rest of the page must stay untouched

    private readonly string _path = Path.GetTempFileName();
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    private readonly TrackedBitmap _bitmap;

    public TrackedBitmapTests()
    {
        _file = File.OpenHandle(_path, FileMode.Create, FileAccess.ReadWrite);
        RandomAccess.SetLength(_file, Environment.SystemPageSize);
        _bitmap = new TrackedBitmap((int)_file.DangerousGetHandle(), Words);
    }

    public void Dispose()
    {
        _bitmap.Dispose();
        _file.Dispose();
        File.Delete(_path);
    }

    [Fact]
    public void Each_pid_is_one_bit_of_its_word()
    {
        foreach (var pid in new[] { 0, 1, 63, 64, 130, 255 })
        {
            _bitmap.Set(pid);
        }

        var words = Read();
        Assert.Equal(1ul | 1ul << 1 | 1ul << 63, words[0]);
        Assert.Equal(1ul, words[1]);
        Assert.Equal(1ul << 2, words[2]);
        Assert.Equal(1ul << 63, words[3]);
    }

    [Fact]
    public void Clearing_a_pid_leaves_the_other_bits_of_its_word()
    {
        _bitmap.Set(70);
        _bitmap.Set(71);
        _bitmap.Set(71);
        _bitmap.Clear(70);
        _bitmap.Clear(72); // never set

        Assert.Equal(1ul << 7, Read()[1]);
    }

    [Fact]
    public void Pids_beyond_the_bitmap_write_nothing()
    {
        _bitmap.Set(256);
        _bitmap.Set(4_194_303);
        _bitmap.Clear(300);

        Assert.All(File.ReadAllBytes(_path), b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(1, 1u)]
    [InlineData(64, 1u)]
    [InlineData(65, 2u)]
    [InlineData(32768, 512u)]
    [InlineData(4_194_304, 65536u)]
    public void A_word_for_every_pid_below_pid_max(int pidMax, uint words)
    {
        Assert.Equal(words, TrackedBitmap.WordsFor(pidMax));
    }

    private ulong[] Read()
    {
        var bytes = File.ReadAllBytes(_path);
        Assert.All(bytes[(int)(Words * 8)..], b => Assert.Equal(0, b));
        return [.. Enumerable.Range(0, (int)Words).Select(i => BitConverter.ToUInt64(bytes, i * 8))];
    }
}
