using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiTracer;

namespace WriteTracer.EndToEnd;

/// <summary>
/// The registry follows the kernel's reports of forks, threads and exits: its counts are exact
/// without a walk of /proc (the tracking interval is an hour here), and when reports are lost
/// the loss is counted and a walk restores them.
/// </summary>
public sealed class RegistryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly string[] NoWalk = ["--tracking-interval", "3600"];

    [RootFact]
    public async Task Counts_follow_forks_threads_and_exits_exactly_per_root_and_in_metrics()
    {
        var metricsPort = FreePort.Get();
        await using var api = await StartAsync([.. NoWalk, "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1"]);
        using var python = await EchoProcess.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(python.Pid)).StatusCode);
        await AssertCountsAsync(api, metricsPort, python.Pid, processes: 1, threads: 1);
        var tree = new PythonTree(python);

        await tree.StartThreadsAsync(3);
        await AssertCountsAsync(api, metricsPort, python.Pid, processes: 1, threads: 4);
        await tree.ForkAsync(2); // a fork of a threaded process has one thread
        await AssertCountsAsync(api, metricsPort, python.Pid, processes: 3, threads: 6);
        await tree.EndThreadAsync();
        await AssertCountsAsync(api, metricsPort, python.Pid, processes: 3, threads: 5);
        await tree.ReapChildAsync();
        await AssertCountsAsync(api, metricsPort, python.Pid, processes: 2, threads: 4);

        Assert.Equal(python.Pid, Assert.Single(api.KernelMap().Values.Distinct()));
        Assert.Equal(2, api.KernelMap().Count);
        Assert.Equal(0, (await MetricsPage.ScrapeAsync(metricsPort))["write_tracer_events_dropped_total{stage=\"lifecycle\"}"]);
        Assert.Equal(0, await api.Tracer.StopAsync());
        Assert.DoesNotContain("lifecycle records lost", api.Tracer.Stderr);
    }

    [RootFact]
    public async Task Lost_reports_are_counted_and_a_walk_restores_exact_counts_and_unregisters_the_exited_root()
    {
        var metricsPort = FreePort.Get();
        // The tracer's test hook: every report of a change to the tracked set is lost.
        await using var api = await StartAsync(new Dictionary<string, string> { ["WRITE_TRACER_TEST_FAIL_CHANGES"] = "1" },
            [.. NoWalk, "--metrics-port", $"{metricsPort}", "--metrics-address", "127.0.0.1"]);
        using var python = await EchoProcess.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(python.Pid)).StatusCode);
        var tree = new PythonTree(python);

        // Five changes, five reports lost: 3 threads started, 2 processes forked.
        await tree.StartThreadsAsync(3);
        await tree.ForkAsync(2);
        var page = await AssertCountsAsync(api, metricsPort, python.Pid, processes: 3, threads: 6);
        Assert.Equal(5, page["write_tracer_events_dropped_total{stage=\"lifecycle\"}"]);
        // Two more: a thread ends, a child exits.
        await tree.EndThreadAsync();
        await tree.ReapChildAsync();
        page = await AssertCountsAsync(api, metricsPort, python.Pid, processes: 2, threads: 4);
        Assert.Equal(7, page["write_tracer_events_dropped_total{stage=\"lifecycle\"}"]);

        // The root's exit goes unreported too: a walk finds it gone.
        var pid = python.Pid;
        Privileges.Signal(pid, Privileges.SIGKILL);
        await WaitUntilAsync(async () => (await api.ListAsync()).Count == 0, "the exited root is still listed");
        Assert.Empty(api.KernelMap()); // its surviving child leaves with it
        var lost = (await MetricsPage.ScrapeAsync(metricsPort))["write_tracer_events_dropped_total{stage=\"lifecycle\"}"];
        Assert.True(lost >= 8, $"{lost} lifecycle records lost: 7, then at least the root's exit");
        Assert.Equal(0, await api.Tracer.StopAsync());
        Assert.Contains($"process {pid} (python3) exited; unregistered with its descendants", api.Tracer.Stderr);
        Assert.Equal(lost, LostInSummary(api.Tracer.Stderr)); // the exit summary counts what /metrics did
    }

    /// <summary>The exit summary's "lifecycle records lost N".</summary>
    private static long LostInSummary(string stderr) =>
        long.Parse(Regex.Match(stderr, @"; lifecycle records lost (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>
    /// The counts GET /pids/N and /metrics show, once they reach the expected values (a guard
    /// against waiting for ever, not a timing assertion: with an hour's tracking interval only
    /// the kernel's reports, or the walk a loss triggers, can bring them there).
    /// </summary>
    private static async Task<MetricsPage> AssertCountsAsync(ApiTracer api, int metricsPort, int root, int processes, int threads)
    {
        await WaitUntilAsync(async () =>
        {
            var (status, body) = await ReadAsync(await api.Http.GetAsync($"/pids/{root}"));
            return status == HttpStatusCode.OK
                && body.GetProperty("process_count").GetInt32() == processes && body.GetProperty("thread_count").GetInt32() == threads;
        }, $"GET /pids/{root} did not reach {processes} processes and {threads} threads");
        return await MetricsPage.WaitForAsync(metricsPort,
            p => p["write_tracer_tracked_processes"] == processes && p["write_tracer_tracked_threads"] == threads, Timeout);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50);
        }
    }

    /// <summary>Threads and children of a Python process, started and ended when the test says.</summary>
    private sealed class PythonTree(EchoProcess python)
    {
        private bool _prepared;

        public async Task StartThreadsAsync(int count)
        {
            await PrepareAsync();
            for (var i = 0; i < count; i++)
            {
                await python.RunAsync("ev = threading.Event(); t = threading.Thread(target=ev.wait, daemon=True); t.start(); held.append((t, ev))");
            }
        }

        public async Task EndThreadAsync() => await python.RunAsync("t, ev = held.pop(); ev.set(); t.join()");

        /// <summary>Children that wait for their pipe to close, holding no other child's pipe.</summary>
        public async Task ForkAsync(int count)
        {
            await PrepareAsync();
            for (var i = 0; i < count; i++)
            {
                await python.RunAsync("r, w = os.pipe(); p = os.fork(); " +
                    "(os.close(w), [os.close(x) for _, x in kids], os.read(r, 1), os._exit(0)) if p == 0 else (os.close(r), kids.append((p, w)))");
            }
        }

        /// <summary>Ends the newest child and waits until it has exited.</summary>
        public async Task ReapChildAsync() => await python.RunAsync("p, w = kids.pop(); os.close(w); os.waitpid(p, 0)");

        private async Task PrepareAsync()
        {
            if (!_prepared)
            {
                await python.RunAsync("import threading; held = []; kids = []");
                _prepared = true;
            }
        }
    }
}
