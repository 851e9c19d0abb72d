using System.Diagnostics;
using System.Net;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>
/// --state-file: registrations survive a restart, are restored only while their pid still
/// names the same process, survive a SIGKILL mid-burst in a loadable file, and a file that
/// cannot be read is set aside rather than overwritten.
/// </summary>
public sealed class StateFileTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-state-").FullName;
    private string StateFile => Path.Combine(_dir, "registry.json");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootFact]
    public async Task A_restart_restores_the_live_root_with_its_descendants_and_drops_the_exited_and_the_reused()
    {
        using var live = StartWritingShell();
        var liveChild = await WaitForChildAsync(live.Id);
        using var exiting = WriterProcess.StartHeld("-n", "1");
        await using (var first = await ApiTracer.StartAsync("--state-file", StateFile))
        {
            Assert.Equal(HttpStatusCode.Created, (await first.RegisterAsync(live.Id)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await first.RegisterAsync(exiting.Pid)).StatusCode);
            Assert.Equal(0, await first.Tracer.StopAsync());
        }
        exiting.Release();
        Assert.Equal(0, await exiting.WaitForExitAsync(Timeout));
        using var reuser = StartWithPid(exiting.Pid);

        await using var second = await ApiTracer.StartAsync("--state-file", StateFile);
        var stderr = second.Tracer.Stderr;
        Assert.Contains($"state file: process {live.Id} (bash, registered by uid 0): restored with its descendants", stderr);
        Assert.Contains($"state file: process {exiting.Pid} (writer, registered by uid 0): exited, its pid now names another process (sleep); dropped", stderr);
        Assert.Equal([live.Id], await second.ListAsync());
        Assert.Equal(new Dictionary<int, int> { [live.Id] = live.Id, [liveChild] = live.Id }, second.KernelMap());

        // New writes of the restored tree are captured.
        await live.StandardInput.WriteLineAsync("write");
        await live.StandardInput.FlushAsync();
        var lines = await second.Tracer.WaitForEventsAsync(e => WriterLine.TryParse(e, out _), 2, Timeout);
        Assert.All(lines, e => Assert.Equal(live.Id, e.GetProperty("root_pid").GetInt32()));
        Assert.DoesNotContain(second.Tracer.Events, e => e.GetProperty("pid").GetInt32() == reuser.Id);
        Assert.Equal(0, await second.Tracer.StopAsync());
    }

    [RootFact]
    public async Task A_sigkill_during_a_burst_of_registrations_leaves_a_file_that_loads()
    {
        const int count = 200;
        using var sleepers = await SleeperTree.StartAsync(children: count);
        var pids = sleepers.Children();
        var answered = 0;
        await using (var api = await ApiTracer.StartAsync("--state-file", StateFile))
        {
            var killed = new TaskCompletionSource();
            var registrations = pids.Select(async pid =>
            {
                try
                {
                    using var response = await api.RegisterAsync(pid);
                    if (response.StatusCode == HttpStatusCode.Created && Interlocked.Increment(ref answered) == count / 4)
                    {
                        Privileges.Signal(api.Tracer.Pid, Privileges.SIGKILL);
                        killed.SetResult();
                    }
                }
                catch (HttpRequestException)
                {
                    // The tracer died under this request.
                }
            }).ToList();
            await Task.WhenAll(registrations);
            await killed.Task.WaitAsync(Timeout);
            await api.Tracer.WaitForExitAsync(Timeout);
        }

        var saved = JsonDocument.Parse(File.ReadAllText(StateFile)).RootElement;
        Assert.Equal(1, saved.GetProperty("version").GetInt32());
        var roots = saved.GetProperty("roots").EnumerateArray().Select(r => r.GetProperty("pid").GetInt32()).ToList();
        // Each 201 is sent after its registration is saved.
        Assert.InRange(roots.Count, count / 4, count);
        Assert.Subset(pids.ToHashSet(), roots.ToHashSet());

        await using var restarted = await ApiTracer.StartAsync("--state-file", StateFile);
        Assert.DoesNotContain(".bad", restarted.Tracer.Stderr);
        Assert.Equal(roots.Order(), (await restarted.ListAsync()).Order());
        Assert.Equal(0, await restarted.Tracer.StopAsync());
    }

    [RootTheory]
    [InlineData("{\"version\": 1, \"roots\": [", "it is not a registry this tracer wrote (")]
    [InlineData("{\"version\": 2, \"roots\": []}", "it was written by a newer write-tracer (format 2; this one reads 1)")]
    public async Task A_corrupt_or_newer_file_is_set_aside_with_one_line_and_the_tracer_starts(string content, string problem)
    {
        File.WriteAllText(StateFile, content);

        await using var api = await ApiTracer.StartAsync("--state-file", StateFile);

        Assert.Contains($"--state-file {StateFile}: {problem}", api.Tracer.Stderr);
        Assert.Contains($"kept as {StateFile}.bad, starting with no registrations", api.Tracer.Stderr);
        Assert.Equal(content, File.ReadAllText(StateFile + ".bad"));
        Assert.Empty(await api.ListAsync());
        Assert.Equal(0, await api.Tracer.StopAsync());
        // The new file holds the new (empty) registry.
        Assert.Equal(0, JsonDocument.Parse(File.ReadAllText(StateFile)).RootElement.GetProperty("roots").GetArrayLength());
    }

    /// <summary>A bash with a sleeping child that runs the writer (2 lines) for every line it reads.</summary>
    private static Process StartWritingShell()
    {
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"sleep 600 & while read line; do {Repository.Writer} -n 2; done; kill %1");
        var shell = Process.Start(start)!;
        shell.OutputDataReceived += (_, _) => { };
        shell.BeginOutputReadLine();
        return shell;
    }

    private static async Task<int> WaitForChildAsync(int pid)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Timeout)
        {
            var children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (children.Length == 1)
            {
                return int.Parse(children[0]);
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"bash {pid} did not fork its sleeper");
    }

    /// <summary>
    /// A sleep with exactly this pid, made by setting the last pid handed out
    /// (/proc/sys/kernel/ns_last_pid) just below it; retried while other processes take it first.
    /// </summary>
    private static Process StartWithPid(int pid)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            File.WriteAllText("/proc/sys/kernel/ns_last_pid", $"{pid - 1}");
            var sleep = Process.Start(new ProcessStartInfo("sleep", ["600"]) { UseShellExecute = false })!;
            if (sleep.Id == pid)
            {
                return sleep;
            }
            sleep.Kill();
            sleep.WaitForExit();
            sleep.Dispose();
        }
        throw new InvalidOperationException($"could not start a process with pid {pid}");
    }
}
