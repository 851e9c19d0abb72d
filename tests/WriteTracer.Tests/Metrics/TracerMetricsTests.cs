using System.Text;
using Prometheus;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Hosting;
using WriteTracer.Metrics;
using WriteTracer.Sinks;
using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Metrics;

public sealed class TracerMetricsTests : IDisposable
{
    private readonly FakeProc _proc = new();
    private readonly RecordingSink _sink = new();

    public void Dispose()
    {
        _sink.Dispose();
        _proc.Dispose();
    }

    /// <summary>The families /metrics had before prometheus-net, exactly: dashboards and alerts depend on them.</summary>
    public static TheoryData<string> PreviousFamilies => new()
    {
        "# HELP write_tracer_registered_processes Processes registered to be traced (each traced with its threads and descendants)\n# TYPE write_tracer_registered_processes gauge",
        "# HELP write_tracer_tracked_processes Processes traced: the registered ones and their descendants, and the members of registered cgroups, kept as the kernel reports forks and exits\n# TYPE write_tracer_tracked_processes gauge",
        "# HELP write_tracer_tracked_threads Threads of the traced processes, kept as the kernel reports thread starts and exits\n# TYPE write_tracer_tracked_threads gauge",
        "# HELP write_tracer_write_calls_total Calls of the write family captured (every syscall --syscalls traces): events received from the kernel (calls it could not queue are counted as dropped, stage kernel)\n# TYPE write_tracer_write_calls_total counter",
        "# HELP write_tracer_write_bytes_total Bytes the captured calls asked to write\n# TYPE write_tracer_write_bytes_total counter",
        "# HELP write_tracer_syscalls_total Calls captured by syscall, one sample per syscall traced (--syscalls); they sum to write_tracer_write_calls_total\n# TYPE write_tracer_syscalls_total counter",
        "# TYPE write_tracer_events_dropped_total counter",
        "# HELP write_tracer_events_delivered_total Events a sink delivered: written to stdout or the file, or accepted by Loki\n# TYPE write_tracer_events_delivered_total counter",
        "# HELP write_tracer_sink_queued_events Events waiting in a sink's queue\n# TYPE write_tracer_sink_queued_events gauge",
        "# HELP write_tracer_capture_failures_total Captured write(2) calls whose buffer the kernel could not read (their events carry no data)\n# TYPE write_tracer_capture_failures_total counter",
        "# HELP write_tracer_untraced_children_total Child processes not traced because the kernel's tracked-process map was full (see --max-tracked-processes)\n# TYPE write_tracer_untraced_children_total counter",
        "# HELP write_tracer_malformed_records_total Ring-buffer records too short to be events (never expected)\n# TYPE write_tracer_malformed_records_total counter",
        "# TYPE process_cpu_seconds_total counter",
        "# HELP process_resident_memory_bytes Resident memory size in bytes\n# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_start_time_seconds gauge",
        "# HELP process_open_fds Number of open file descriptors\n# TYPE process_open_fds gauge",
    };

    [Theory]
    [MemberData(nameof(PreviousFamilies))]
    public async Task Every_family_of_the_previous_exposition_keeps_its_name_type_and_help(string family)
    {
        var text = await ScrapeAsync(Metrics(_ => 0));

        Assert.Contains(family + "\n", text);
    }

    [Fact]
    public async Task Counters_are_copied_from_the_components_at_scrape_time()
    {
        var kernel = new Dictionary<BpfCounter, ulong> { [BpfCounter.RingBufferFull] = 3, [BpfCounter.PendingFull] = 4 };
        var metrics = Metrics(c => kernel.GetValueOrDefault(c));
        var before = await ScrapeAsync(metrics);
        kernel[BpfCounter.RingBufferFull] = 10;

        var after = await ScrapeAsync(metrics);

        Assert.Contains("write_tracer_events_dropped_total{stage=\"kernel\"} 7\n", before);
        Assert.Contains("write_tracer_events_dropped_total{stage=\"kernel\"} 14\n", after);
        Assert.Contains("write_tracer_events_dropped_total{stage=\"test\"} 0\n", after);
        Assert.Contains("write_tracer_events_delivered_total{stage=\"test\"} 0\n", after);
        Assert.Contains("write_tracer_events_unconfirmed_total{stage=\"test\"} 0\n", after);
    }

    [Fact]
    public async Task Every_sink_has_a_delay_histogram_fed_once_per_batch_from_its_oldest_event()
    {
        var metrics = Metrics(_ => 0);
        _sink.Start();
        var pool = TestBatches.Pool();
        var batch = pool.Rent();
        var oldest = WallClock.UtcNowNanoseconds() - 3_000_000_000; // seen by the kernel 3 s ago
        foreach (var (line, time) in new[] { ("a", oldest), ("b", oldest + 2_900_000_000) })
        {
            var length = Encoding.UTF8.GetBytes(line, batch.FreeSpace);
            batch.FreeSpace[length] = (byte)'\n';
            batch.Commit(length, rootPid: 1, unixNanoseconds: time);
        }
        _sink.Offer(batch);
        batch.Release();
        _sink.Complete(Poll.Limit);

        var text = await ScrapeAsync(metrics);

        Assert.Contains("write_tracer_event_delay_seconds_count{stage=\"test\"} 1\n", text);
        Assert.Contains("write_tracer_event_delay_seconds_bucket{stage=\"test\",le=\"2.048\"} 0\n", text);
        Assert.Contains("write_tracer_event_delay_seconds_bucket{stage=\"test\",le=\"4.096\"} 1\n", text);
    }

    /// <summary>
    /// Every kernel counter slot, alone at a value no other figure has, must show in a
    /// write_tracer_ series of /metrics and in the exit summary.
    /// </summary>
    [Fact]
    public async Task Every_kernel_counter_is_reported_in_metrics_and_in_the_exit_summary()
    {
        var missing = new List<string>();
        foreach (var counter in Enum.GetValues<BpfCounter>())
        {
            var value = 7000UL + (ulong)counter;
            Func<BpfCounter, ulong> read = c => c == counter ? value : 0;
            var report = KernelCounterReport.All.SingleOrDefault(r => r.Counter == counter);
            var text = await ScrapeAsync(Metrics(read));
            var series = text.Split('\n')
                .Where(l => l.StartsWith("write_tracer_", StringComparison.Ordinal) && l.EndsWith($" {value}", StringComparison.Ordinal)).ToList();
            var summary = RunSummary.Format(Pipeline(), read, [_sink]);
            if (report is null || series.Count == 0 || !summary.Contains($"{report.Summary} {value}", StringComparison.Ordinal))
            {
                missing.Add($"{counter}: row {(report is null ? "missing" : "present")}, metrics [{string.Join("; ", series)}], summary \"{summary}\"");
            }
        }
        Assert.Empty(missing);
        Assert.Equal(Enum.GetValues<BpfCounter>().Length, KernelCounterReport.All.Count);
    }

    [Fact]
    public void The_summary_counts_kernel_losses_as_kernel_drops_and_names_the_others_only_when_they_happened()
    {
        var kernel = new Dictionary<BpfCounter, ulong> { [BpfCounter.RingBufferFull] = 2, [BpfCounter.PendingFull] = 5, [BpfCounter.TrackedMapFull] = 1 };

        Assert.Equal("captured 0 writes (0 bytes); dropped: kernel 0, test 0; unreadable buffers 0",
            RunSummary.Format(Pipeline(), _ => 0, [_sink]));
        Assert.Equal("captured 0 writes (0 bytes); dropped: kernel 7, test 0; unreadable buffers 0; ring buffer full 2; " +
            "no per-thread storage (--capture-at exit) 5; untraced children (tracked-process map full) 1",
            RunSummary.Format(Pipeline(), c => kernel.GetValueOrDefault(c), [_sink]));
    }

    [Fact]
    public async Task With_lifecycle_execs_and_exits_are_counted_by_event_and_not_in_the_write_counters()
    {
        var pipeline = Pipeline();
        var argv = Records.ArgvBytes("true");
        pipeline.OnRecord(Records.Write("12345"u8));
        pipeline.OnRecord(Records.Record(Records.Exec(captured: (uint)argv.Length), argv));
        pipeline.OnRecord(Records.Record(Records.Exit(0)));
        pipeline.OnRecord(Records.Record(Records.Exit(9)));

        var with = await ScrapeAsync(Metrics(_ => 0, pipeline, lifecycle: true));
        var without = await ScrapeAsync(Metrics(_ => 0, pipeline));

        Assert.Contains("write_tracer_lifecycle_events_total{event=\"exec\"} 1\n", with);
        Assert.Contains("write_tracer_lifecycle_events_total{event=\"exit\"} 2\n", with);
        foreach (var text in new[] { with, without })
        {
            Assert.Contains("write_tracer_write_calls_total 1\n", text);
            Assert.Contains("write_tracer_write_bytes_total 5\n", text);
            Assert.Contains("write_tracer_syscalls_total{syscall=\"write\"} 1\n", text);
        }
        Assert.DoesNotContain("lifecycle_events", without);
    }

    [Fact]
    public void With_lifecycle_the_summary_counts_the_execs_and_exits_after_the_writes()
    {
        var pipeline = Pipeline();
        pipeline.OnRecord(Records.Write("12345"u8));
        pipeline.OnRecord(Records.Record(Records.Exec(captured: 0)));
        pipeline.OnRecord(Records.Record(Records.Exit(0)));
        pipeline.OnRecord(Records.Record(Records.Exit(0)));

        Assert.Equal("captured 1 write (5 bytes), 1 exec, 2 exits; dropped: kernel 0, test 0; unreadable buffers 0",
            RunSummary.Format(pipeline, _ => 0, [_sink], lifecycle: true));
        Assert.Equal("captured 1 write (5 bytes); dropped: kernel 0, test 0; unreadable buffers 0",
            RunSummary.Format(pipeline, _ => 0, [_sink]));
    }

    private EventPipeline Pipeline()
    {
        var fanOut = new SinkFanOut([_sink]);
        return new(new WallClock(0), fanOut, fanOut.Formats, captureBytes: 16);
    }

    private TracerMetrics Metrics(Func<BpfCounter, ulong> kernel, EventPipeline? pipeline = null, bool lifecycle = false)
    {
        var registries = new TestRegistries(_proc.ProcFs, 9000);
        return new(pipeline ?? Pipeline(), kernel, [_sink], registries.Pids, registries.Cgroups, [WriteSyscall.Write], lifecycle);
    }

    private static async Task<string> ScrapeAsync(TracerMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
