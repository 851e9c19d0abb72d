using System.Diagnostics;
using System.Net;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiTracer;

namespace WriteTracer.EndToEnd;

/// <summary>What registration through the API does to the event stream and the kernel map.</summary>
public sealed class RestApiTrackingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [RootFact]
    public async Task A_process_registered_at_run_time_is_captured_exactly_until_it_is_deleted()
    {
        await using var api = await StartAsync();
        using var echo = await EchoProcess.StartAsync();
        await echo.EchoAsync("before registration");

        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(echo.Pid)).StatusCode);
        const int lines = 200;
        for (var i = 0; i < lines; i++)
        {
            await echo.EchoAsync($"registered {i}");
        }
        var captured = await api.Tracer.WaitForEventsAsync(e => IsFrom(e, echo.Pid), lines, Timeout);

        Assert.Equal(HttpStatusCode.OK, (await api.UnregisterAsync(echo.Pid)).StatusCode);
        for (var i = 0; i < lines; i++)
        {
            await echo.EchoAsync($"deleted {i}");
        }
        await ProveNothingMoreIsCapturedAsync(api);

        var events = api.Tracer.Events.Where(e => IsFrom(e, echo.Pid)).ToList();
        Assert.Equal(Enumerable.Range(0, lines).Select(i => $"registered {i}\n"), events.Select(e => e.GetProperty("data").GetString()));
        Assert.All(events, e =>
        {
            Assert.Equal(echo.Pid, e.GetProperty("tid").GetInt32());
            Assert.Equal(echo.Pid, e.GetProperty("root_pid").GetInt32());
            Assert.Equal(1, e.GetProperty("fd").GetInt32());
        });
        Assert.Equal(lines, captured.Count);
    }

    /// <summary>
    /// While another registration keeps the hooks attached, a registration and a deletion take
    /// effect at the process's very next write: the write hooks remember their last lookup per
    /// CPU, and every change user space makes to the tracked map must make it stale.
    /// </summary>
    [RootFact]
    public async Task Registering_and_deleting_take_effect_at_the_next_write_while_the_hooks_stay_attached()
    {
        await using var api = await StartAsync();
        using var keeper = await EchoProcess.StartAsync();
        using var echo = await EchoProcess.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(keeper.Pid)).StatusCode);
        const int rounds = 5, lines = 40;
        var expected = new List<string>();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < lines; i++)
            {
                await echo.EchoAsync($"untracked {round} {i}");
            }
            Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(echo.Pid)).StatusCode);
            for (var i = 0; i < lines; i++)
            {
                await echo.EchoAsync($"tracked {round} {i}");
                expected.Add($"tracked {round} {i}\n");
            }
            Assert.Equal(HttpStatusCode.OK, (await api.UnregisterAsync(echo.Pid)).StatusCode);
        }
        await echo.EchoAsync("untracked at last");
        await ProveNothingMoreIsCapturedAsync(api);

        Assert.Equal(expected, api.Tracer.Events.Where(e => IsFrom(e, echo.Pid)).Select(e => e.GetProperty("data").GetString()));
    }

    [RootFact]
    public async Task One_delete_untracks_the_whole_tree_of_a_root()
    {
        await using var api = await StartAsync();
        using var tree = await SleeperTree.StartAsync(children: 3);
        var before = tree.Children();

        var (status, body) = await ReadAsync(await api.RegisterAsync(tree.Pid));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal($"tracking process {tree.Pid} (sh) with 4 threads in 4 processes", body.GetProperty("message").GetString());
        // Children forked after registration are inherited by the kernel, not the walker.
        var later = new[] { await tree.ForkAsync(), await tree.ForkAsync() };
        var expected = before.Concat(later).Append(tree.Pid).ToDictionary(pid => pid, _ => tree.Pid);
        Assert.Equal(expected, api.KernelMap());

        var child = later[0];
        await AssertErrorAsync(await api.RegisterAsync(child), HttpStatusCode.Conflict,
            $"process {child} is already tracked as a descendant of registered process {tree.Pid}");
        await AssertErrorAsync(await api.UnregisterAsync(child), HttpStatusCode.NotFound,
            $"process {child} is not registered: it is traced as a descendant of registered process {tree.Pid}");

        Assert.Equal(HttpStatusCode.OK, (await api.UnregisterAsync(tree.Pid)).StatusCode);
        Assert.Empty(api.KernelMap());
        Assert.Empty(await api.ListAsync());
        Assert.Equal(5, tree.Children().Count); // all of it still runs: untracked, not killed
    }

    /// <summary>The kernel reports the exit: with an hour's tracking interval, no walk of /proc can be what notices it.</summary>
    [RootFact]
    public async Task A_registered_process_that_exits_is_unregistered_as_the_kernel_reports_its_exit()
    {
        await using var api = await StartAsync("--tracking-interval", "3600");
        using var writer = WriterProcess.StartHeld("-n", "3");
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(writer.Pid)).StatusCode);
        Assert.Equal([writer.Pid], await api.ListAsync());

        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        var deadline = Stopwatch.StartNew();
        while ((await api.ListAsync()).Count > 0)
        {
            Assert.True(deadline.Elapsed < Timeout, "the exited process is still listed");
            await Task.Delay(100);
        }

        Assert.Empty(api.KernelMap());
        await AssertErrorAsync(await api.Http.GetAsync($"/pids/{writer.Pid}"), HttpStatusCode.NotFound, $"process {writer.Pid} is not registered");
        Assert.Contains($"process {writer.Pid} (writer) exited; unregistered with its descendants", api.Tracer.Stderr);
        Assert.Equal(0, await api.Tracer.StopAsync());
        Assert.Equal(3, api.Tracer.Events.Count(e => IsFrom(e, writer.Pid) && WriterLine.TryParse(e, out _)));
    }

    /// <summary>
    /// A sentinel process writes after everything the test did: the ring buffer is in
    /// order, so once its event is out, any earlier captured write would be out too.
    /// </summary>
    private static async Task ProveNothingMoreIsCapturedAsync(ApiTracer api)
    {
        using var sentinel = WriterProcess.StartHeld("-n", "1");
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(sentinel.Pid)).StatusCode);
        sentinel.Release();
        await api.Tracer.WaitForEventsAsync(e => IsFrom(e, sentinel.Pid), 1, Timeout);
    }

    private static bool IsFrom(JsonElement e, int pid) => e.GetProperty("pid").GetInt32() == pid;
}
