using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiClient;

namespace WriteTracer.EndToEnd;

/// <summary>
/// Who may trace a cgroup: administrators, or the user a cgroup is delegated to (the owner
/// of its directory), who then traces only what it could strace in it, and never across a
/// privilege-gaining exec.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CgroupAuthorizationTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-cgauth-").FullName;

    public CgroupAuthorizationTests() => File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootFact]
    public async Task Nobody_registers_only_a_cgroup_delegated_to_it_and_traces_only_its_own_processes_there()
    {
        using var delegated = TestCgroup.Create("delegated");
        await delegated.DelegateAsync(NobodyUid);
        var inner = delegated.Child("inner");
        using var notDelegated = TestCgroup.Create("not-delegated");
        using var own = WriterProcess.StartHeldAsNobody("-n", "5");
        using var roots = WriterProcess.StartHeld("-n", "5");
        using var movedLater = WriterProcess.StartHeld("-n", "5");
        delegated.Move(own.Pid);
        delegated.Move(roots.Pid);
        var port = FreePort.Get();
        await using var tracer = TracerProcess.Start("--rest-port", $"{port}");
        await tracer.WaitUntilTracingAsync();
        var target = $"{port}";

        var refusal = $"uid {NobodyUid} may not trace cgroup {notDelegated.Name} (its directory is owned by uid 0)";
        var (status, body) = await AsNobodyAsync(target, "POST", "/cgroups", PathBody(notDelegated.Name));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(refusal, body.GetProperty("error").GetString());

        (status, body) = await AsNobodyAsync(target, "POST", "/cgroups", PathBody(delegated.Name));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(1, body.GetProperty("process_count").GetInt32());
        // Root's processes inside, there already or moved in later, are not nobody's to trace.
        inner.Move(movedLater.Pid);
        Assert.Equal([own.Pid], KernelTrackedMap.Read(tracer.Pid).Keys);

        (status, _) = await AsRootAsync(target, "POST", "/cgroups", PathBody(notDelegated.Name));
        Assert.Equal(HttpStatusCode.Created, status);
        var untrackRefusal = $"uid {NobodyUid} may not stop tracing cgroup {notDelegated.Name} (registered by uid 0)";
        (status, body) = await AsNobodyAsync(target, "DELETE", $"/cgroups/{notDelegated.Id}");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(untrackRefusal, body.GetProperty("error").GetString());

        foreach (var writer in new[] { own, roots, movedLater })
        {
            writer.Release();
            Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        }
        await tracer.WaitForEventsAsync(e => e.GetProperty("pid").GetInt32() == own.Pid, 5, Timeout);
        (status, _) = await AsNobodyAsync(target, "DELETE", $"/cgroups?path={Uri.EscapeDataString(delegated.Name)}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, await tracer.StopAsync());

        Assert.DoesNotContain(tracer.Events, e => e.GetProperty("pid").GetInt32() is var pid && (pid == roots.Pid || pid == movedLater.Pid));
        AssertAudit(tracer.Stderr, $"uid {NobodyUid} over loopback TCP", $"POST /cgroups → 403: {refusal}");
        AssertAudit(tracer.Stderr, $"uid {NobodyUid} over loopback TCP", $"POST /cgroups → 201: tracking cgroup {delegated.Name}");
        AssertAudit(tracer.Stderr, $"uid {NobodyUid} over loopback TCP", $"DELETE /cgroups/{notDelegated.Id} → 403: {untrackRefusal}");
    }

    [RootTheory]
    [InlineData("nobody", false)]
    [InlineData("root", true)]
    public async Task A_member_of_a_cgroup_that_execs_a_setuid_program_is_traced_on_only_when_an_administrator_registered_it(
        string registeredBy, bool tracedAfterExec)
    {
        var setuidWriter = SetuidWriter.CreateIn(_dir);
        using var cgroup = TestCgroup.Create("setuid");
        await cgroup.DelegateAsync(NobodyUid);
        // nobody's shell: one line before the exec, then the setuid-root writer's.
        using var shell = NobodyShell.StartHeld($"echo before exec; exec {setuidWriter} -n 3");
        cgroup.Move(shell.Id);
        var metricsPort = FreePort.Get();
        var port = FreePort.Get();
        await using var tracer = TracerProcess.Start("--rest-port", $"{port}", "--metrics-port", $"{metricsPort}");
        await tracer.WaitUntilTracingAsync();
        var register = registeredBy == "root" ? AsRootAsync($"{port}", "POST", "/cgroups", PathBody(cgroup.Name))
            : AsNobodyAsync($"{port}", "POST", "/cgroups", PathBody(cgroup.Name));
        Assert.Equal(HttpStatusCode.Created, (await register).Status);

        await NobodyShell.RunAsync(shell);
        // A write moved in last: once it is read, every write of the shell's has been.
        using var sentinel = WriterProcess.StartHeld("-n", "1");
        cgroup.Move(sentinel.Pid);
        if (!tracedAfterExec)
        {
            Assert.Equal(HttpStatusCode.Created, (await AsRootAsync($"{port}", "POST", "/pids", $$"""{"pid": {{sentinel.Pid}}}""")).Status);
        }
        sentinel.Release();
        await tracer.WaitForEventsAsync(e => e.GetProperty("pid").GetInt32() == sentinel.Pid, 1, Timeout);
        var untracked = (await MetricsPage.ScrapeAsync(metricsPort))["write_tracer_untracked_on_exec_total"];
        Assert.Equal(0, await tracer.StopAsync());

        var written = tracer.Events.Where(e => e.GetProperty("pid").GetInt32() == shell.Id && e.GetProperty("fd").GetInt32() == 1)
            .Select(e => e.GetProperty("data").GetString()).ToList();
        var afterExec = Enumerable.Range(0, 3).Select(seq => $"w pid={shell.Id} tid={shell.Id} seq={seq}\n");
        Assert.Equal(tracedAfterExec ? ["before exec\n", .. afterExec] : ["before exec\n"], written);
        Assert.Equal(tracedAfterExec ? 0 : 1, untracked);
    }

    private static string PathBody(string path) => JsonSerializer.Serialize(new Dictionary<string, string> { ["path"] = path });

    /// <summary>The tracer logged the audit line of this caller's request and the decision on it.</summary>
    private static void AssertAudit(string stderr, string caller, string decision) =>
        Assert.Contains(stderr.Split('\n'), line =>
            line.Contains(" INF audit: " + caller, StringComparison.Ordinal) && line.Contains(decision, StringComparison.Ordinal));
}
