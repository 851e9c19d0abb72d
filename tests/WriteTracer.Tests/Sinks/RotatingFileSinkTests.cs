using WriteTracer.Events;
using WriteTracer.Hosting;
using WriteTracer.Sinks;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Sinks;

public class RotatingFileSinkTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _directory = new("rotating-file-sink-");
    private readonly EventBatchPool _pool = TestBatches.Pool();

    private string PathName => _directory.File("events.jsonl");

    [Fact]
    public void Rotates_exactly_every_n_records_across_batch_boundaries()
    {
        var sink = Run(recordsPerFile: 3, maxBackups: 2, batchSizes: [2, 5, 1, 3]);

        Assert.Equal(11, sink.Delivered);
        Assert.Equal(["r9", "r10"], File.ReadAllLines(PathName));
        Assert.Equal(["r6", "r7", "r8"], File.ReadAllLines(PathName + ".1"));
        Assert.Equal(["r3", "r4", "r5"], File.ReadAllLines(PathName + ".2"));
        Assert.Equal(["events.jsonl", "events.jsonl.1", "events.jsonl.2"], FileNames());
    }

    [Fact]
    public void A_full_last_file_is_rotated_at_once_leaving_an_empty_current_file()
    {
        Run(recordsPerFile: 2, maxBackups: 5, batchSizes: [4]);

        Assert.Equal("", File.ReadAllText(PathName));
        Assert.Equal(["r2", "r3"], File.ReadAllLines(PathName + ".1"));
        Assert.Equal(["r0", "r1"], File.ReadAllLines(PathName + ".2"));
    }

    [Fact]
    public void Raw_records_are_rotated_between_writes_and_reproduce_the_bytes_exactly()
    {
        // Records of 1 to 5 bytes, newlines and NULs among them: files never cut one in two.
        var records = Enumerable.Range(0, 11).Select(i => Enumerable.Range(0, i % 5 + 1).Select(b => (byte)(b * 50 + i)).Append((byte)'\n').ToArray()).ToList();
        var sink = new RotatingFileSink(PathName, recordsPerFile: 3, maxBackups: 0, capacityEvents: 1000, EventFormat.Raw);
        sink.Start();
        foreach (var chunk in records.Chunk(4))
        {
            var batch = TestBatches.RentRaw(_pool, chunk);
            sink.Offer(batch);
            batch.Release();
        }
        sink.Complete(Deadline);
        sink.Dispose();

        Assert.Equal(11, sink.Delivered);
        string[] oldestFirst = [PathName + ".3", PathName + ".2", PathName + ".1", PathName];
        var files = oldestFirst.Select(File.ReadAllBytes).ToList();
        for (var file = 0; file < files.Count; file++)
        {
            Assert.Equal(records.Skip(file * 3).Take(3).SelectMany(r => r), files[file]);
        }
    }

    [Fact]
    public void Max_backups_zero_keeps_every_file()
    {
        Run(recordsPerFile: 2, maxBackups: 0, batchSizes: [7]);

        Assert.Equal(["r6"], File.ReadAllLines(PathName));
        Assert.Equal(["r4", "r5"], File.ReadAllLines(PathName + ".1"));
        Assert.Equal(["r2", "r3"], File.ReadAllLines(PathName + ".2"));
        Assert.Equal(["r0", "r1"], File.ReadAllLines(PathName + ".3"));
    }

    [Fact]
    public void What_an_earlier_run_left_is_rotated_and_backups_beyond_the_limit_are_deleted()
    {
        File.WriteAllText(PathName, "earlier\n");
        File.WriteAllText(PathName + ".1", "before that\n");
        File.WriteAllText(PathName + ".2", "oldest kept\n");
        File.WriteAllText(PathName + ".3", "beyond the limit\n");
        File.WriteAllText(PathName + ".4", "beyond the limit\n");

        Run(recordsPerFile: 10, maxBackups: 2, batchSizes: [1]);

        Assert.Equal(["r0"], File.ReadAllLines(PathName));
        Assert.Equal("earlier\n", File.ReadAllText(PathName + ".1"));
        Assert.Equal("before that\n", File.ReadAllText(PathName + ".2"));
        Assert.Equal(["events.jsonl", "events.jsonl.1", "events.jsonl.2"], FileNames());
    }

    [Fact]
    public void An_empty_file_from_an_earlier_run_is_reused_not_rotated()
    {
        File.WriteAllText(PathName, "");

        Run(recordsPerFile: 10, maxBackups: 2, batchSizes: [2]);

        Assert.Equal(["events.jsonl"], FileNames());
    }

    [Fact]
    public void Paths_that_cannot_be_written_are_start_up_errors()
    {
        var missing = Assert.Throws<StartupException>(() => new RotatingFileSink(_directory.File("no/such/events"), 10, 1, 100));
        Assert.Equal($"--file-output: the directory '{_directory.File("no/such")}' does not exist", missing.Message);

        var directory = Assert.Throws<StartupException>(() => new RotatingFileSink(_directory.Path, 10, 1, 100));
        Assert.Equal($"--file-output: '{_directory.Path}' is not a regular file", directory.Message);

        var device = Assert.Throws<StartupException>(() => new RotatingFileSink("/dev/null", 10, 1, 100));
        Assert.Equal("--file-output: '/dev/null' is not a regular file", device.Message);
    }

    [Fact]
    public void Checking_the_path_changes_nothing_until_the_sink_starts()
    {
        File.WriteAllText(PathName, "earlier\n");

        using var sink = new RotatingFileSink(PathName, 10, 1, 100);

        Assert.Equal(["events.jsonl"], FileNames());
        Assert.Equal("earlier\n", File.ReadAllText(PathName));
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>Writes records r0, r1, … in batches of the given sizes through a started sink, then completes it.</summary>
    private RotatingFileSink Run(int recordsPerFile, int maxBackups, int[] batchSizes)
    {
        var sink = new RotatingFileSink(PathName, recordsPerFile, maxBackups, capacityEvents: 1000);
        sink.Start();
        var next = 0;
        foreach (var size in batchSizes)
        {
            var batch = TestBatches.Rent(_pool, Enumerable.Range(next, size).Select(i => $"r{i}"));
            next += size;
            sink.Offer(batch);
            batch.Release();
        }
        sink.Complete(Deadline);
        sink.Dispose();
        Assert.Equal(0, sink.Dropped);
        Assert.Equal(next, sink.Delivered);
        return sink;
    }

    private string[] FileNames() => [.. Directory.GetFiles(_directory.Path).Select(f => Path.GetFileName(f)).Order()];
}
