using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>What is captured of each buffer: binary round trips, truncation, no capture, the fd filter.</summary>
public sealed class PayloadTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Binary_payloads_round_trip_through_data_b64()
    {
        const int lines = 200;
        var events = await TraceWriterAsync(["-b", "-n", $"{lines}"], [], e => e.Int("fd") == 1, lines);

        foreach (var e in events)
        {
            Assert.False(e.TryGetProperty("data", out _), "invalid UTF-8 must not be shown as data");
            var bytes = e.DataBytes();
            Assert.True(WriterLine.TryParseBytes(bytes, out var line));
            Assert.Equal(line.BinaryPayload(), bytes);
            Assert.Equal(bytes.Length, e.Int("count"));
            Assert.False(e.IsTruncated());
        }
        Assert.Equal(lines, events.Select(e => e.DataBytes()).Distinct(new BytesComparer()).Count());
    }

    [RootTheory]
    [InlineData(1000, 100)]   // larger than the capture: the first 100 bytes, truncated
    [InlineData(5000, 4096)]  // a page-sized capture
    [InlineData(16384, 16384)] // the largest capture, whole
    [InlineData(100, 256)]    // the default capture, whole
    [InlineData(1, 256)]      // the kernel reserves small writes in size classes of 32, 64 and 128 bytes:
    [InlineData(32, 256)]     // each side of every class boundary
    [InlineData(33, 256)]
    [InlineData(64, 256)]
    [InlineData(65, 256)]
    [InlineData(128, 256)]
    [InlineData(129, 256)]
    [InlineData(20, 40)]      // a capture between two classes
    [InlineData(60, 40)]
    public async Task Captures_at_most_capture_bytes_and_marks_truncation(int size, int capture)
    {
        const int lines = 20;
        var events = await TraceWriterAsync(["-s", $"{size}", "-n", $"{lines}"], ["--capture-bytes", $"{capture}"],
            e => e.Int("fd") == 1, lines);

        AssertPayloads(events, size, capture);
    }

    [RootFact]
    public async Task Records_that_wrap_around_the_end_of_the_ring_arrive_whole()
    {
        // Records of 344 bytes (event header 80, default capture 256, ring header 8) do not divide
        // a 1 MiB ring: the 3049th straddles its end, and so does one on every later lap. The
        // writer is paced so the reader keeps up and every event arrives.
        const int lines = 8000, size = 1000;
        var events = await TraceWriterAsync(["-s", $"{size}", "-n", $"{lines}", "-p", "50", "-o", "/dev/null"],
            ["--ring-buffer-mb", "1"], e => e.Int("fd") == 3, lines);

        AssertPayloads(events, size, capture: 256);
    }

    [RootFact]
    public async Task Capture_zero_sends_sizes_without_bytes()
    {
        const int lines = 50;
        var events = await TraceWriterAsync(["-s", "300", "-n", $"{lines}"], ["--capture-bytes", "0", "-f", "1"],
            _ => true, lines);

        Assert.Equal(lines, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal("", e.GetProperty("data").GetString());
            Assert.Equal(300, e.Int("count"));
            Assert.True(e.IsTruncated());
        });
    }

    [RootFact]
    public async Task File_descriptor_filter_keeps_only_the_listed_fds()
    {
        // writer -o opens a file: its writes go to fd 3, while its pid and summary lines go to fd 2.
        using var output = new TempFile();
        const int lines = 100;
        var events = await TraceWriterAsync(["-n", $"{lines}", "-o", output.Path], ["-f", "3"], _ => true, lines);

        Assert.Equal(lines, events.Count);
        Assert.All(events, e => Assert.Equal(3, e.Int("fd")));
        Assert.Equal(lines, events.Select(e => e.GetProperty("data").GetString()).Distinct().Count());
    }

    /// <summary>
    /// Every event holds the first capture bytes of its payload. One writer thread: its
    /// events arrive in write order, so the i-th is seq=i (heads shorter than
    /// "w pid=… tid=… seq=…" could not be parsed back).
    /// </summary>
    private static void AssertPayloads(IReadOnlyList<JsonElement> events, int size, int capture)
    {
        foreach (var (e, seq) in events.Select((e, i) => (e, i)))
        {
            var line = new WriterLine(e.Int("pid"), e.Int("tid"), seq);
            Assert.Equal(line.Payload(size).AsSpan(0, Math.Min(size, capture)).ToArray(), e.DataBytes());
            Assert.Equal(size, e.Int("count"));
            Assert.Equal(size > capture, e.IsTruncated());
        }
    }

    /// <summary>Runs writer under the tracer and returns the events matching the filter once all expected arrived.</summary>
    private static async Task<IReadOnlyList<JsonElement>> TraceWriterAsync(
        string[] writerArgs, string[] tracerArgs, Func<JsonElement, bool> filter, int expected)
    {
        using var writer = WriterProcess.StartHeld(writerArgs);
        await using var tracer = TracerProcess.Start([.. tracerArgs, "-p", $"{writer.Pid}"]);
        await tracer.TraceToCompletionAsync(writer, Timeout);
        var events = tracer.Events.Where(filter).ToList();
        Assert.Equal(expected, events.Count);
        Assert.All(events, e => Assert.Equal(writer.Pid, e.Int("pid")));
        return events;
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
