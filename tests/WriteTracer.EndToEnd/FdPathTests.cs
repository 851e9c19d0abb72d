using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>--resolve-fds: each event names what its fd named, exactly as readlink /proc/PID/fd/FD does.</summary>
public sealed class FdPathTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [RootTheory]
    [InlineData("entry")]
    [InlineData("exit")]
    public async Task A_file_a_pipe_and_a_socket_are_named_as_proc_names_them(string captureAt)
    {
        using var file = new TempFile();
        using var echo = await EchoProcess.StartAsync();
        await using var tracer = TracerProcess.Start("--resolve-fds", "--capture-at", captureAt, "-p", $"{echo.Pid}");
        await tracer.WaitUntilTracingAsync();

        await echo.RunAsync($"f = os.open('{file.Path}', os.O_WRONLY | os.O_CREAT | os.O_TRUNC); os.write(f, b'to file')");
        await echo.RunAsync("r, w = os.pipe(); os.write(w, b'to pipe')");
        await echo.RunAsync("s, peer = socket.socketpair(); os.write(s.fileno(), b'to socket')");
        var events = await WaitForDataAsync(tracer, ["to file", "to pipe", "to socket"]);

        Assert.Equal(file.Path, FdPath(events["to file"]));
        Assert.Matches(@"^pipe:\[\d+\]$", FdPath(events["to pipe"]));
        Assert.Matches(@"^socket:\[\d+\]$", FdPath(events["to socket"]));
        Assert.All(events.Values, e => Assert.Equal(LinkTarget(echo.Pid, e.Int("fd")), FdPath(e)));
        Assert.All(events.Values, e => Assert.Equal(["fd", "fd_path"], Names(e).SkipWhile(n => n != "fd").Take(2)));
    }

    [RootFact]
    public async Task A_file_reopened_on_the_same_fd_is_named_anew()
    {
        using var first = new TempFile();
        using var second = new TempFile();
        using var echo = await EchoProcess.StartAsync();
        await using var tracer = TracerProcess.Start("--resolve-fds", "-p", $"{echo.Pid}");
        await tracer.WaitUntilTracingAsync();

        await echo.RunAsync($"f = os.open('{first.Path}', os.O_WRONLY | os.O_CREAT); os.write(f, b'first')");
        var before = (await WaitForDataAsync(tracer, ["first"]))["first"];
        await echo.RunAsync($"os.dup2(os.open('{second.Path}', os.O_WRONLY | os.O_CREAT), f); os.write(f, b'second')");
        var after = (await WaitForDataAsync(tracer, ["second"]))["second"];

        Assert.Equal(before.Int("fd"), after.Int("fd"));
        Assert.Equal(first.Path, FdPath(before));
        Assert.Equal(second.Path, FdPath(after));
    }

    [RootFact]
    public async Task Short_lived_children_writing_to_an_inherited_fd_are_named()
    {
        const int children = 3, lines = 2;
        using var file = new TempFile();
        using var echo = await EchoProcess.StartAsync();
        await using var tracer = TracerProcess.Start("--resolve-fds", "-p", $"{echo.Pid}");
        await tracer.WaitUntilTracingAsync();

        await echo.RunAsync($"f = os.open('{file.Path}', os.O_WRONLY | os.O_CREAT)");
        for (var i = 0; i < children; i++)
        {
            // Each child has exited before the tracer can look it up in /proc: the root still has the fd.
            await echo.RunAsync($"subprocess.run(['{Repository.Writer}', '-f', str(f), '-n', '{lines}'], pass_fds=[f], check=True)");
        }
        var events = await tracer.WaitForEventsAsync(e => WriterLine.TryParse(e, out _), children * lines, Timeout);

        Assert.Equal(children, events.Select(e => e.Int("pid")).Distinct().Count());
        Assert.All(events, e => Assert.Equal(file.Path, FdPath(e)));
    }

    private static async Task<Dictionary<string, JsonElement>> WaitForDataAsync(TracerProcess tracer, string[] data)
    {
        var events = await tracer.WaitForEventsAsync(e => data.Contains(Data(e)), data.Length, Timeout);
        return events.ToDictionary(e => Data(e)!);
    }

    private static string? Data(JsonElement e) => e.TryGetProperty("data", out var data) ? data.GetString() : null;

    private static string? FdPath(JsonElement e) => e.TryGetProperty("fd_path", out var path) ? path.GetString() : null;

    private static IEnumerable<string> Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name);

    /// <summary>What readlink /proc/PID/fd/FD says now (the process still holds the fd).</summary>
    private static string LinkTarget(int pid, int fd) => new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget!;
}
