using System.Net;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiTracer;

namespace WriteTracer.EndToEnd;

/// <summary>
/// --cgroup and /cgroups against real cgroup v2 directories the tests create (and remove):
/// exact membership kept by the kernel, for processes already there, forked inside,
/// moved in and moved out.
/// </summary>
public sealed class CgroupTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Processes_in_the_cgroup_and_in_a_nested_one_are_traced_exactly_and_none_outside_appears()
    {
        using var cgroup = TestCgroup.Create("members");
        var nested = cgroup.Child("nested");
        using var outside = TestCgroup.Create("outside");
        using var inCgroup = WriterProcess.StartHeld("-n", "20");
        using var inNested = WriterProcess.StartHeld("-n", "20", "-t", "3");
        using var outsider = WriterProcess.StartHeld("-n", "20");
        cgroup.Move(inCgroup.Pid);
        nested.Move(inNested.Pid);
        outside.Move(outsider.Pid);

        // Relative to the mount, as a systemd unit is named.
        await using var tracer = TracerProcess.Start("--cgroup", cgroup.Name.TrimStart('/'));
        await tracer.WaitUntilTracingAsync();
        Assert.Contains($"tracking cgroup {cgroup.Name} (id {cgroup.Id}) with 2 processes", tracer.Stderr);
        foreach (var writer in new[] { inCgroup, inNested, outsider })
        {
            writer.Release();
            Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        }
        Assert.Equal(0, await tracer.StopAsync());

        var events = Payloads(tracer.Events);
        AssertWrites(events, inCgroup.Pid, threads: 1, lines: 20);
        AssertWrites(events, inNested.Pid, threads: 3, lines: 20);
        Assert.DoesNotContain(events, e => e.Int("pid") == outsider.Pid);
        Assert.All(tracer.Events, e => AssertNamesCgroup(e, cgroup));
    }

    [RootFact]
    public async Task A_process_moved_in_is_traced_from_its_first_write_after_the_move_and_not_once_moved_out()
    {
        using var cgroup = TestCgroup.Create("moves");
        using var outside = TestCgroup.Create("moved-out");
        using var echo = await EchoProcess.StartAsync();
        outside.Move(echo.Pid);

        // The absolute path, as an operator copies it from /sys/fs/cgroup.
        await using var tracer = TracerProcess.Start("--cgroup", cgroup.DirectoryPath);
        await tracer.WaitUntilTracingAsync();
        const int lines = 50;
        foreach (var i in Enumerable.Range(0, lines))
        {
            await echo.EchoAsync($"before {i}");
        }
        cgroup.Move(echo.Pid);
        foreach (var i in Enumerable.Range(0, lines))
        {
            await echo.EchoAsync($"inside {i}");
        }
        outside.Move(echo.Pid);
        foreach (var i in Enumerable.Range(0, lines))
        {
            await echo.EchoAsync($"after {i}");
        }
        // A write that moved in last: once it is out, every earlier write has been read.
        using var sentinel = WriterProcess.StartHeld("-n", "1");
        cgroup.Move(sentinel.Pid);
        sentinel.Release();
        await tracer.WaitForEventsAsync(e => e.Int("pid") == sentinel.Pid, 1, Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        var echoed = tracer.Events.Where(e => e.Int("pid") == echo.Pid).ToList();
        Assert.Equal(Enumerable.Range(0, lines).Select(i => $"inside {i}\n"), echoed.Select(e => e.GetProperty("data").GetString()));
        Assert.All(echoed, e => AssertNamesCgroup(e, cgroup));
    }

    [RootFact]
    public async Task Every_short_lived_child_forked_inside_is_traced()
    {
        const int children = 500;
        using var cgroup = TestCgroup.Create("forks");
        using var writer = WriterProcess.StartHeld("-n", "1", "-c", $"{children}");
        cgroup.Move(writer.Pid);

        await using var tracer = TracerProcess.Start("--cgroup", cgroup.Name);
        await tracer.TraceToCompletionAsync(writer, Timeout);

        Assert.All(tracer.Events, e => AssertNamesCgroup(e, cgroup));
        var events = Payloads(tracer.Events);
        Assert.All(events, e => Assert.Equal($"w pid={e.Int("pid")} tid={e.Int("pid")} seq=0\n", e.GetProperty("data").GetString()));
        var forked = events.Select(e => e.Int("pid")).Where(pid => pid != writer.Pid).ToList();
        Assert.Equal(children, forked.Count);
        Assert.Equal(children, forked.Distinct().Count());
        Assert.Single(events, e => e.Int("pid") == writer.Pid);
    }

    [RootFact]
    public async Task A_process_is_reported_once_under_the_registration_made_first()
    {
        using var cgroup = TestCgroup.Create("first");
        using var outside = TestCgroup.Create("first-out");
        using var registeredFirst = await EchoProcess.StartAsync();
        using var member = await EchoProcess.StartAsync();
        cgroup.Move(registeredFirst.Pid);
        cgroup.Move(member.Pid);
        await using var api = await StartAsync("-p", $"{registeredFirst.Pid}");
        Assert.Equal(HttpStatusCode.Created, (await api.Http.PostAsync("/cgroups", CgroupBody(cgroup.Name))).StatusCode);

        await AssertErrorAsync(await api.RegisterAsync(member.Pid), HttpStatusCode.Conflict,
            $"process {member.Pid} is already tracked as a member of registered cgroup {cgroup.Name}");
        await AssertErrorAsync(await api.UnregisterAsync(member.Pid), HttpStatusCode.NotFound,
            $"process {member.Pid} is not registered: it is traced as a member of registered cgroup {cgroup.Name}");
        // Moves keep a pid registration's process with it.
        outside.Move(registeredFirst.Pid);
        await registeredFirst.EchoAsync("pid registration");
        cgroup.Move(registeredFirst.Pid);
        await registeredFirst.EchoAsync("still the pid registration");
        await member.EchoAsync("cgroup registration");
        await api.Tracer.WaitForEventsAsync(e => e.Int("pid") == member.Pid, 1, Timeout);
        Assert.Equal(0, await api.Tracer.StopAsync());

        var first = api.Tracer.Events.Where(e => e.Int("pid") == registeredFirst.Pid).ToList();
        Assert.Equal(["pid registration\n", "still the pid registration\n"], first.Select(e => e.GetProperty("data").GetString()));
        Assert.All(first, e =>
        {
            Assert.Equal(registeredFirst.Pid, e.Int("root_pid"));
            Assert.False(e.TryGetProperty("cgroup", out _));
        });
        AssertNamesCgroup(Assert.Single(api.Tracer.Events, e => e.Int("pid") == member.Pid), cgroup);
    }

    [RootFact]
    public async Task The_cgroups_api_registers_lists_and_deletes_and_answers_every_error_with_its_code()
    {
        using var cgroup = TestCgroup.Create("rest");
        var nested = cgroup.Child("nested");
        using var member = WriterProcess.StartHeld("-n", "1");
        nested.Move(member.Pid);
        var metricsPort = FreePort.Get();
        await using var api = await StartAsync("--tracking-interval", "0.5", "--metrics-port", $"{metricsPort}");

        var (status, body) = await ReadAsync(await api.Http.PostAsync("/cgroups", CgroupBody(cgroup.Name)));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(cgroup.Name, body.GetProperty("path").GetString());
        Assert.Equal(cgroup.Id, body.GetProperty("id").GetUInt64());
        Assert.Equal(1, body.GetProperty("process_count").GetInt32());
        Assert.Equal($"tracking cgroup {cgroup.Name} (id {cgroup.Id}) with 1 processes", body.GetProperty("message").GetString());
        Assert.Equal(1, (await MetricsPage.ScrapeAsync(metricsPort))["write_tracer_registered_cgroups"]);

        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", CgroupBody(cgroup.Name.TrimStart('/'))), HttpStatusCode.Conflict,
            $"cgroup {cgroup.Name} is already registered");
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", CgroupBody(nested.Name)), HttpStatusCode.Conflict,
            $"cgroup {nested.Name} is already traced as part of registered cgroup {cgroup.Name}");
        var missing = cgroup.Name + "/missing";
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", CgroupBody(missing)), HttpStatusCode.NotFound, $"no such cgroup: {missing}");
        var file = cgroup.Name + "/cgroup.procs";
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", CgroupBody(file)), HttpStatusCode.BadRequest,
            $"'{file}' is not a cgroup directory ({TestCgroup.MountPoint}{file})");
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", CgroupBody("/tmp")), HttpStatusCode.BadRequest,
            $"'/tmp' is not a cgroup v2 directory (the cgroup v2 hierarchy is mounted at {TestCgroup.MountPoint}; v1 hierarchies cannot be traced)");
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", CgroupBody("../..")), HttpStatusCode.BadRequest,
            $"'../..' leads outside the cgroup v2 hierarchy mounted at {TestCgroup.MountPoint}");
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", CgroupBody(".")), HttpStatusCode.BadRequest,
            "the root cgroup holds every process of the host: register a cgroup below it");
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", Json("""{"path": 5}""")), HttpStatusCode.BadRequest,
            "\"path\" must be a string, not a number");
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", Json("""{"pid": 5}""")), HttpStatusCode.BadRequest,
            """the body has no "path" field: send {"path": "PATH"}""");
        await AssertErrorAsync(await api.Http.PostAsync("/cgroups", new StringContent(cgroup.Name)), HttpStatusCode.UnsupportedMediaType,
            "Content-Type 'text/plain; charset=utf-8' is not application/json (UTF-8)");

        (status, body) = await ReadAsync(await api.Http.GetAsync("/cgroups"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("total").GetInt32());
        var listed = Assert.Single(body.GetProperty("cgroups").EnumerateArray());
        Assert.Equal(["path", "id", "process_count", "registered_at"], listed.EnumerateObject().Select(p => p.Name));
        Assert.Equal(cgroup.Name, listed.GetProperty("path").GetString());
        Assert.Equal(cgroup.Id, listed.GetProperty("id").GetUInt64());
        Assert.Equal(1, listed.GetProperty("process_count").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await api.Http.DeleteAsync($"/cgroups?path={Uri.EscapeDataString(cgroup.Name)}")).StatusCode);
        await AssertErrorAsync(await api.Http.DeleteAsync($"/cgroups?path={Uri.EscapeDataString(cgroup.Name)}"), HttpStatusCode.NotFound,
            $"cgroup {cgroup.Name} is not registered");
        await AssertErrorAsync(await api.Http.DeleteAsync("/cgroups"), HttpStatusCode.BadRequest,
            "name the cgroup: DELETE /cgroups?path=PATH or DELETE /cgroups/ID");
        await AssertErrorAsync(await api.Http.DeleteAsync("/cgroups/abc"), HttpStatusCode.BadRequest,
            "'abc' is not a cgroup id (a number GET /cgroups shows)");
        await AssertErrorAsync(await api.Http.DeleteAsync($"/cgroups/{cgroup.Id}"), HttpStatusCode.NotFound,
            $"no registered cgroup has id {cgroup.Id}");
        Assert.Empty(api.KernelMap());

        Assert.Equal(HttpStatusCode.Created, (await api.Http.PostAsync("/cgroups", CgroupBody(cgroup.DirectoryPath))).StatusCode);
        Assert.Equal([member.Pid], api.KernelMap().Keys);
        (status, body) = await ReadAsync(await api.Http.DeleteAsync($"/cgroups/{cgroup.Id}"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal($"stopped tracking cgroup {cgroup.Name} (id {cgroup.Id})", body.GetProperty("message").GetString());
        Assert.Empty(api.KernelMap());
        Assert.Equal(0, (await MetricsPage.ScrapeAsync(metricsPort))["write_tracer_registered_cgroups"]);
    }

    [RootFact]
    public async Task A_cgroup_removed_is_unregistered_as_the_kernel_reports_it_and_logged()
    {
        // No walk comes within the test's time: only the kernel's report of the rmdir can unregister it.
        using var cgroup = TestCgroup.Create("removed");
        using var member = WriterProcess.StartHeld("-n", "1");
        cgroup.Move(member.Pid);
        await using var api = await StartAsync("--tracking-interval", "3600");
        Assert.Equal(HttpStatusCode.Created, (await api.Http.PostAsync("/cgroups", CgroupBody(cgroup.Name))).StatusCode);
        member.Release();
        Assert.Equal(0, await member.WaitForExitAsync(Timeout));

        cgroup.Remove();
        await api.Tracer.WaitForStderrAsync($"cgroup {cgroup.Name} was removed; unregistered", Timeout);

        var (status, body) = await ReadAsync(await api.Http.GetAsync("/cgroups"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, body.GetProperty("total").GetInt32());
        Assert.Empty(body.GetProperty("cgroups").EnumerateArray());
    }

    [RootFact]
    public async Task A_restart_with_the_state_file_restores_the_cgroup_registration_and_drops_a_removed_one()
    {
        using var state = new TempFile();
        using var kept = TestCgroup.Create("kept");
        using var removed = TestCgroup.Create("gone");
        var removedId = removed.Id;
        using var member = await EchoProcess.StartAsync();
        kept.Move(member.Pid);
        string registeredAt;
        await using (var first = await StartAsync("--state-file", state.Path))
        {
            var (status, body) = await ReadAsync(await first.Http.PostAsync("/cgroups", CgroupBody(kept.Name)));
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.Equal(HttpStatusCode.Created, (await first.Http.PostAsync("/cgroups", CgroupBody(removed.Name))).StatusCode);
            (_, body) = await ReadAsync(await first.Http.GetAsync("/cgroups"));
            registeredAt = body.GetProperty("cgroups")[0].GetProperty("registered_at").GetString()!;
            Assert.Equal(0, await first.Tracer.StopAsync());
        }
        removed.Remove();

        await using var second = await StartAsync("--state-file", state.Path);
        Assert.Contains($"state file: cgroup {kept.Name} (id {kept.Id}, registered by an administrator): restored with 1 processes", second.Tracer.Stderr);
        Assert.Contains($"state file: cgroup {removed.Name} (id {removedId}, registered by an administrator): removed; dropped", second.Tracer.Stderr);
        var (listed, list) = await ReadAsync(await second.Http.GetAsync("/cgroups"));
        Assert.Equal(HttpStatusCode.OK, listed);
        var restored = Assert.Single(list.GetProperty("cgroups").EnumerateArray());
        Assert.Equal(kept.Name, restored.GetProperty("path").GetString());
        Assert.Equal(kept.Id, restored.GetProperty("id").GetUInt64());
        Assert.Equal(registeredAt, restored.GetProperty("registered_at").GetString());
        // Traced again: the member already there, and a process that joins now.
        await member.EchoAsync("after the restart");
        using var joining = WriterProcess.StartHeld("-n", "1");
        kept.Move(joining.Pid);
        joining.Release();
        await second.Tracer.WaitForEventsAsync(e => e.Int("pid") == joining.Pid && e.Int("fd") == 1, 1, Timeout);
        Assert.Equal(0, await second.Tracer.StopAsync());
        AssertNamesCgroup(Assert.Single(second.Tracer.Events, e => e.Int("pid") == member.Pid), kept);
        Assert.Equal("after the restart\n", second.Tracer.Events.Single(e => e.Int("pid") == member.Pid).GetProperty("data").GetString());
        using var saved = JsonDocument.Parse(File.ReadAllText(state.Path));
        Assert.Equal([kept.Name], saved.RootElement.GetProperty("cgroups").EnumerateArray().Select(c => c.GetProperty("path").GetString()));
    }

    [RootFact]
    public async Task A_cgroup_that_cannot_be_traced_stops_the_start_with_one_line()
    {
        var missing = $"wt-test-missing-{Guid.NewGuid():N}";

        var (exitCode, stdout, stderr) = await Shell.ExecAsync(Repository.Tracer, ["--cgroup", missing, "--metrics-port", "0"], Timeout);

        Assert.Equal(1, exitCode);
        Assert.Equal("", stdout);
        Assert.EndsWith($"--cgroup {missing}: no such cgroup: {missing}\n", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("no such cgroup", StringComparison.Ordinal));
    }

    [RootFact]
    public async Task Text_events_name_the_cgroup()
    {
        using var cgroup = TestCgroup.Create("text");
        using var writer = WriterProcess.StartHeld("-n", "1");
        cgroup.Move(writer.Pid);

        await using var tracer = TracerProcess.Start("--cgroup", cgroup.Name, "--format", "text");
        await tracer.TraceToCompletionAsync(writer, Timeout);

        // bin/writer's payload on fd 1 (its summary goes to fd 2).
        var line = Assert.Single(tracer.StdoutLines, l => l.Contains(" fd=1 ", StringComparison.Ordinal));
        Assert.EndsWith($" writer[{writer.Pid}/{writer.Pid}] cg={cgroup.Name} fd=1 {$"w pid={writer.Pid} tid={writer.Pid} seq=0\n".Length} \"w pid={writer.Pid} tid={writer.Pid} seq=0\\n\"", line);
    }

    /// <summary>bin/writer's payloads: its fd 1 (it reports on fd 2 when done).</summary>
    private static List<JsonElement> Payloads(IReadOnlyList<JsonElement> events) => [.. events.Where(e => e.Int("fd") == 1)];

    private static StringContent CgroupBody(string path) => Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["path"] = path }));

    private static void AssertNamesCgroup(JsonElement e, TestCgroup cgroup)
    {
        Assert.Equal(cgroup.Name, e.GetProperty("cgroup").GetString());
        Assert.False(e.TryGetProperty("root_pid", out _));
    }

    /// <summary>Exactly bin/writer's writes of pid: lines per thread, in order, threads in all.</summary>
    private static void AssertWrites(IReadOnlyList<JsonElement> events, int pid, int threads, int lines)
    {
        var byThread = events.Where(e => e.Int("pid") == pid).GroupBy(e => e.Int("tid")).ToList();
        Assert.Equal(threads, byThread.Count);
        foreach (var thread in byThread)
        {
            Assert.Equal(Enumerable.Range(0, lines).Select(seq => $"w pid={pid} tid={thread.Key} seq={seq}\n"),
                thread.Select(e => e.GetProperty("data").GetString()));
        }
    }
}
