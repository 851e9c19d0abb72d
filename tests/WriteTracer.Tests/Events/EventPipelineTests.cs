using System.Text;
using System.Text.Json;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Events;

public sealed class EventPipelineTests
{
    private const long ClockOffset = 1_700_000_000_000_000_000;
    private readonly RecordingPublisher _published = new();

    [Fact]
    public void Every_event_arrives_once_in_order_with_its_root_and_time()
    {
        var pipeline = Pipeline(capture: 256, maxEvents: 64);
        var records = Enumerable.Range(0, 1000)
            .Select(i => Records.Write(Encoding.UTF8.GetBytes($"line {i}\n"), pid: (uint)(100 + i % 7), rootPid: (uint)(10 + i % 3), timestampNs: (ulong)(5_000 + i)))
            .ToList();

        Feed(pipeline, records);

        Assert.Equal(1000, _published.Events().Count);
        var formatter = new JsonEventFormatter();
        for (var i = 0; i < records.Count; i++)
        {
            WriteEvent.TryDecode(records[i], out var header, out var data);
            Assert.Equal(new RecordedEvent(Line(formatter, header, data, ClockOffset + 5_000 + i), (uint)(10 + i % 3), ClockOffset + 5_000 + i), _published.Events()[i]);
        }
    }

    [Fact]
    public void A_batch_is_published_when_it_holds_its_maximum_number_of_events()
    {
        var pipeline = Pipeline(capture: 256, maxEvents: 4);

        Feed(pipeline, Enumerable.Range(0, 10).Select(i => Records.Write([(byte)('a' + i)])));

        Assert.Equal([4, 4, 2], _published.Batches().Select(b => b.Count));
        Assert.Equal("abcdefghij", string.Concat(_published.Events().Select(e => Data(e.Line))));
    }

    [Fact]
    public void A_batch_is_published_before_the_next_line_could_overflow_it()
    {
        const int capture = 64;
        var maxLine = JsonEventFormatter.MaxLength(capture);
        var pipeline = new EventPipeline(new WallClock(ClockOffset), _published, [EventFormat.Json], capture, maxEventsPerBatch: 10_000, minBatchBytes: 0);
        // Lines of every length up to the worst case (each byte a six-byte escape).
        var records = Enumerable.Range(0, 300)
            .Select(i => Records.Write(Enumerable.Repeat((byte)0x01, i % (capture + 1)).ToArray(), count: 1_000_000))
            .ToList();

        Feed(pipeline, records);

        Assert.True(_published.Batches().Count > 1);
        Assert.All(_published.Batches().SkipLast(1), b => Assert.True(b.BufferLength - b.Length < maxLine, "published while another line would have fit"));
        Assert.Equal(300, _published.Events().Count);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(new string('\u0001', i % (capture + 1)), Data(_published.Events()[i].Line));
        }
    }

    [Fact]
    public void A_batch_holds_its_lines_back_to_back_each_ending_in_a_newline()
    {
        var pipeline = Pipeline(capture: 16, maxEvents: 8);

        Feed(pipeline, Enumerable.Range(0, 20).Select(i => Records.Write(Encoding.UTF8.GetBytes($"w{i}\n"))));

        var lines = _published.Events().Select(e => e.Line).ToList();
        Assert.Equal(string.Concat(lines.Select(l => l + "\n")), string.Concat(_published.Batches().Select(b => Encoding.UTF8.GetString(b.Bytes))));
    }

    [Fact]
    public void Captured_counts_events_and_captured_bytes_the_sizes_asked_to_write()
    {
        var pipeline = Pipeline(capture: 8, maxEvents: 16);

        Feed(pipeline,
        [
            Records.Write("12345678"u8),
            Records.Write("abcdefgh"u8, count: 1_000_000),        // truncated by the capture
            Records.Write([], count: 4096),                        // nothing captured
            Records.Write([]),                                     // write(fd, buf, 0)
            Records.Record(Records.Header(count: 77, captured: 0, flags: WriteEvent.ReadFailedFlag), []),
        ]);

        Assert.Equal(5, pipeline.Captured);
        Assert.Equal(8 + 1_000_000 + 4096 + 0 + 77, pipeline.CapturedBytes);
        Assert.Equal(0, pipeline.Malformed);
        Assert.Equal(5, _published.Events().Count);
    }

    [Fact]
    public void Malformed_records_are_counted_and_not_published()
    {
        var pipeline = Pipeline(capture: 8, maxEvents: 16);
        var valid = Records.Write("ok"u8);

        Feed(pipeline, [[], valid, valid[..1], valid[..(WriteEvent.Size - 1)], valid]);

        Assert.Equal(3, pipeline.Malformed);
        Assert.Equal(2, pipeline.Captured);
        Assert.Equal(4, pipeline.CapturedBytes);
        Assert.Equal(2, _published.Events().Count);
    }

    [Fact]
    public void Events_are_counted_by_syscall_and_a_record_naming_no_call_of_the_family_is_malformed()
    {
        var pipeline = new EventPipeline(new WallClock(ClockOffset), _published, [EventFormat.Json], captureBytes: 8, nameSyscalls: true);
        byte[] Of(WriteSyscall syscall) => Records.Record(Records.Header(count: 2, captured: 2, syscall: syscall), "ok"u8);

        Feed(pipeline, [Of(WriteSyscall.Writev), Of(WriteSyscall.Write), Of(WriteSyscall.Writev), Of(WriteSyscall.Pwritev2),
            Of((WriteSyscall)WriteSyscalls.All.Count)]);

        Assert.Equal([1, 2, 0, 0, 1], WriteSyscalls.All.Select(pipeline.CapturedOf));
        Assert.Equal(4, pipeline.Captured);
        Assert.Equal(1, pipeline.Malformed);
        Assert.Equal(["writev", "write", "writev", "pwritev2"], _published.Events().Select(e => Syscall(e.Line)));
    }

    [Fact]
    public void Flushing_with_nothing_pending_publishes_nothing()
    {
        var pipeline = Pipeline(capture: 8, maxEvents: 16);

        pipeline.Flush();
        pipeline.OnRecord(Records.Write("x"u8));
        pipeline.Flush();
        pipeline.Flush();

        Assert.Equal([1], _published.Batches().Select(b => b.Count));
    }

    [Fact]
    public void Every_event_is_published_in_each_format_asked_for_formatted_once_per_format()
    {
        var pipeline = new EventPipeline(new WallClock(ClockOffset), _published, [EventFormat.Json, EventFormat.Text],
            captureBytes: 16, maxEventsPerBatch: 8, minBatchBytes: 0);
        var records = Enumerable.Range(0, 20)
            .Select(i => Records.Write(Encoding.UTF8.GetBytes($"w{i}\n"), pid: 100, tid: 101, rootPid: (uint)(i % 2 == 0 ? 100 : 7), timestampNs: (ulong)i))
            .ToList();

        Feed(pipeline, records);

        var json = new JsonEventFormatter();
        var textFormatter = new TextEventFormatter();
        for (var i = 0; i < records.Count; i++)
        {
            WriteEvent.TryDecode(records[i], out var header, out var data);
            var unixNs = ClockOffset + i;
            Assert.Equal(new RecordedEvent(Line(json, header, data, unixNs), header.RootPid, unixNs), _published.Events()[i]);
            Assert.Equal(new RecordedEvent(Line(textFormatter, header, data, unixNs), header.RootPid, unixNs), _published.Events(EventFormat.Text)[i]);
        }
        Assert.Equal(20, _published.Events().Count);
        Assert.Equal(20, _published.Events(EventFormat.Text).Count);
        Assert.Equal([8, 8, 4], _published.Batches(EventFormat.Text).Select(b => b.Count));
        Assert.Equal(20, pipeline.Captured);
    }

    [Fact]
    public void Without_formats_events_are_counted_and_nothing_is_formatted()
    {
        var pipeline = new EventPipeline(new WallClock(ClockOffset), _published, [], captureBytes: 16);

        pipeline.OnRecord(Records.Write("unseen"u8));
        pipeline.Flush();

        Assert.Empty(_published.Formats);
        Assert.Equal((1, 6), (pipeline.Captured, pipeline.CapturedBytes));
    }

    [Fact]
    public void Execs_and_exits_are_published_in_order_among_the_writes_in_json_and_text_and_left_out_of_raw()
    {
        var pipeline = new EventPipeline(new WallClock(ClockOffset), _published, [EventFormat.Json, EventFormat.Text, EventFormat.Raw],
            captureBytes: 16, maxEventsPerBatch: 3, minBatchBytes: 0);
        var argv = Records.ArgvBytes("cat", "-");
        var exec = Records.Exec(captured: (uint)argv.Length, pid: 300, rootPid: 100, comm: "cat", timestampNs: 2);
        var exit = Records.Exit(1 << 8, pid: 300, tid: 300, rootPid: 100, comm: "cat", timestampNs: 4);

        Feed(pipeline,
        [
            Records.Write("a\n"u8, pid: 100, tid: 100, rootPid: 100, timestampNs: 1),
            Records.Record(exec, argv),
            Records.Write("b\n"u8, pid: 300, tid: 300, rootPid: 100, timestampNs: 3),
            Records.Record(exit),
            Records.Write("c\n"u8, pid: 100, tid: 100, rootPid: 100, timestampNs: 5),
        ]);

        var json = _published.Events();
        Assert.Equal(["a\n", "exec", "b\n", "exit", "c\n"], json.Select(e => Data(e.Line) ?? Kind(e.Line)));
        Assert.Equal([100u, 100u, 100u, 100u, 100u], json.Select(e => e.RootPid));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => ClockOffset + i), json.Select(e => e.UnixNanoseconds));
        Assert.Equal(new RecordedEvent(ProcessLine(new JsonEventFormatter(), exec, argv, ClockOffset + 2), 100, ClockOffset + 2), json[1]);
        var text = _published.Events(EventFormat.Text);
        Assert.Equal(5, text.Count);
        Assert.Equal(ProcessLine(new TextEventFormatter(), exec, argv, ClockOffset + 2), text[1].Line);
        Assert.Equal(ProcessLine(new TextEventFormatter(), exit, [], ClockOffset + 4), text[3].Line);
        Assert.Equal("a\nb\nc\n", string.Concat(_published.Batches(EventFormat.Raw).Select(b => Encoding.UTF8.GetString(b.Bytes))));
        Assert.Equal(3, _published.Events(EventFormat.Raw).Count);
    }

    [Fact]
    public void Execs_and_exits_are_counted_apart_from_the_writes()
    {
        var pipeline = Pipeline(capture: 16, maxEvents: 16);
        var argv = Records.ArgvBytes("sh");

        Feed(pipeline,
        [
            Records.Write("12345"u8),
            Records.Record(Records.Exec(captured: (uint)argv.Length, argvSize: 4096), argv),
            Records.Record(Records.Exec(captured: 0)),
            Records.Record(Records.Exit(9)),
        ]);

        Assert.Equal((1, 5, 1), (pipeline.Captured, pipeline.CapturedBytes, pipeline.CapturedOf(WriteSyscall.Write)));
        Assert.Equal((2, 1), (pipeline.Execs, pipeline.Exits));
        Assert.Equal(0, pipeline.Malformed);
        Assert.Equal(4, _published.Events().Count);
    }

    [Fact]
    public void A_process_record_too_short_or_a_record_of_no_known_kind_is_malformed()
    {
        var pipeline = Pipeline(capture: 16, maxEvents: 16);
        var exit = Records.Record(Records.Exit(0));
        var unknown = Records.Write("x"u8);
        unknown[0] = 3; // the kind: none of WT_RECORD_*

        Feed(pipeline, [exit[..(ProcessEvent.Size - 1)], exit[..3], unknown, exit]);

        Assert.Equal(3, pipeline.Malformed);
        Assert.Equal((0, 0, 1), (pipeline.Captured, pipeline.Execs, pipeline.Exits));
        Assert.Equal(["exit"], _published.Events().Select(e => Kind(e.Line)));
    }

    private static string ProcessLine(IProcessEventFormatter formatter, in ProcessEvent header, ReadOnlySpan<byte> argv, long unixNs)
    {
        var buffer = new byte[JsonEventFormatter.MaxLength(argv.Length)];
        return Encoding.UTF8.GetString(buffer, 0, formatter.Format(header, argv, unixNs, buffer));
    }

    private static string? Kind(string line)
    {
        using var json = JsonDocument.Parse(line);
        return json.RootElement.TryGetProperty("event", out var kind) ? kind.GetString() : null;
    }

    private static string Line(IEventFormatter formatter, in WriteEvent header, ReadOnlySpan<byte> data, long unixNs)
    {
        var buffer = new byte[formatter.MaxLength(data.Length, withFdPath: false)];
        return Encoding.UTF8.GetString(buffer, 0, formatter.Format(header, data, unixNs, buffer));
    }

    [Fact]
    public void With_a_resolver_each_event_carries_the_path_of_its_fd()
    {
        var pipeline = new EventPipeline(new WallClock(ClockOffset), _published, [EventFormat.Json], captureBytes: 256, new FdPathResolver());
        var toPipe = Records.Header(count: 1, captured: 1);
        toPipe.File = new FileIdentity { Ino = 4242, Mode = FileIdentity.Fifo | 0x180, Flags = FileIdentity.PseudoFlag };

        Feed(pipeline, [Records.Record(toPipe, "a"u8), Records.Write("b"u8)]);

        Assert.Equal(["pipe:[4242]", null], _published.Events().Select(e => FdPath(e.Line)));
    }

    private static string? FdPath(string line)
    {
        using var json = JsonDocument.Parse(line);
        return json.RootElement.TryGetProperty("fd_path", out var path) ? path.GetString() : null;
    }

    private static string? Syscall(string line)
    {
        using var json = JsonDocument.Parse(line);
        return json.RootElement.GetProperty("syscall").GetString();
    }

    /// <summary>A write's data; null for an event without (an exec or exit).</summary>
    private static string? Data(string line)
    {
        using var json = JsonDocument.Parse(line);
        return json.RootElement.TryGetProperty("data", out var data) ? data.GetString() : null;
    }

    private EventPipeline Pipeline(int capture, int maxEvents) =>
        new(new WallClock(ClockOffset), _published, [EventFormat.Json], capture, maxEventsPerBatch: maxEvents, minBatchBytes: 0);

    /// <summary>Hands the records over as the reader thread does, then publishes the rest.</summary>
    private static void Feed(EventPipeline pipeline, IEnumerable<byte[]> records)
    {
        foreach (var record in records)
        {
            pipeline.OnRecord(record);
        }
        pipeline.Flush();
    }
}
