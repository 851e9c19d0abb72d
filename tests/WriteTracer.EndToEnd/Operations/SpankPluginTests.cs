using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>
/// The Slurm SPANK plugin (utilities/slurm), built by its Makefile target and loaded by a
/// slurmstepd stand-in, against a real HTTP server that records what the plugin sends.
/// </summary>
public sealed partial class SpankPluginTests(SpankPluginBuild build) : IClassFixture<SpankPluginBuild>
{
    private const int TaskPid = 4242;
    private const string AllHooksSucceed = "init=0 task_post_fork=0 task_exit=0";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static (int, string) Answer(RecordedRequest request) => request.Method == "POST"
        ? (201, $$"""{"pid":{{TaskPid}},"threads":1,"message":"tracing 1 thread"}""")
        : (200, """{"message":"untracked"}""");

    [Fact]
    public async Task Exports_exactly_the_symbols_Slurm_looks_up()
    {
        var defined = await DynamicSymbolsAsync("--defined-only");
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["slurm_spank_init"] = "T",
                ["slurm_spank_task_post_fork"] = "T",
                ["slurm_spank_task_exit"] = "T",
                ["plugin_name"] = "R",
                ["plugin_type"] = "R",
                ["plugin_version"] = "R",
                ["spank_plugin_version"] = "R",
            },
            defined);

        // What the plugin needs from its host: the C library, or functions slurmstepd provides.
        var spankHeader = await File.ReadAllTextAsync("/usr/include/slurm/spank.h");
        var needed = (await DynamicSymbolsAsync("--undefined-only")).Where(s => s.Value == "U").Select(s => s.Key).ToList();
        Assert.NotEmpty(needed);
        Assert.All(needed, name => Assert.True(
            name.Contains("@GLIBC_", StringComparison.Ordinal) || Regex.IsMatch(spankHeader, $@"\b{name}\s*\("),
            $"{name} is neither in the C library nor declared in spank.h"));
    }

    [Fact]
    public async Task Registers_the_task_before_it_runs_and_unregisters_it_on_exit_over_TCP_with_the_token()
    {
        await using var server = await RecordingHttpServer.StartTcpAsync(Answer);
        using var token = new TempFile();
        await File.WriteAllTextAsync(token.Path, "s3cret-token\n");
        var hostAndPort = new Uri(server.Url).Authority;

        var (results, log) = await build.RunTaskAsync("remote", TaskPid, $"url={server.Url}", $"token_file={token.Path}", "required=1");

        Assert.Equal(AllHooksSucceed, results);
        Assert.Contains($"verbose: write-tracer: tracing task 0 (pid {TaskPid}) of job 77.3", log);
        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(("POST", "/pids", $$"""{"pid":{{TaskPid}}}"""), (requests[0].Method, requests[0].Path, requests[0].Body));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Host"] = hostAndPort,
                ["User-Agent"] = "spank-write-tracer",
                ["Connection"] = "close",
                ["Authorization"] = "Bearer s3cret-token",
                ["Content-Type"] = "application/json",
                ["Content-Length"] = "12",
            },
            requests[0].Headers);
        Assert.Equal(("DELETE", $"/pids/{TaskPid}", ""), (requests[1].Method, requests[1].Path, requests[1].Body));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Host"] = hostAndPort,
                ["User-Agent"] = "spank-write-tracer",
                ["Connection"] = "close",
                ["Authorization"] = "Bearer s3cret-token",
            },
            requests[1].Headers);
    }

    [Fact]
    public async Task Registers_over_a_Unix_socket_and_sends_no_Authorization_without_a_token()
    {
        using var directory = new TempFile();
        var socket = Path.Combine(directory.Directory, "api.sock");
        await using var server = await RecordingHttpServer.StartUnixAsync(socket, Answer);

        var (results, _) = await build.RunTaskAsync("remote", TaskPid, $"socket={socket}");

        Assert.Equal(AllHooksSucceed, results);
        Assert.Equal(["POST /pids", $"DELETE /pids/{TaskPid}"], server.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.All(server.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization")));
        Assert.All(server.Requests, r => Assert.Equal("localhost", r.Headers["Host"]));
        Assert.Equal($$"""{"pid":{{TaskPid}}}""", server.Requests[0].Body);
    }

    [Theory]
    [InlineData("required=0", 0)]
    [InlineData("required=1", -1)]
    public async Task An_unreachable_tracer_fails_the_task_only_when_required(string required, int postForkResult)
    {
        var (results, log) = await build.RunTaskAsync("remote", TaskPid, "socket=/nonexistent/write-tracer.sock", required);

        Assert.Equal($"init=0 task_post_fork={postForkResult} task_exit=0", results);
        Assert.Contains(
            $"error: write-tracer: task 0 (pid {TaskPid}) of job 77.3 not traced: connect to unix:/nonexistent/write-tracer.sock: No such file or directory",
            log);
    }

    [Theory]
    [InlineData(404, """{"error":"no such process 4242"}""", -1, "error: write-tracer: task 0 (pid 4242) of job 77.3 not traced: {0} answered 404 {{\"error\":\"no such process 4242\"}}")]
    [InlineData(401, """{"error":"missing or wrong bearer token"}""", -1, "answered 401 {{\"error\":\"missing or wrong bearer token\"}}")]
    [InlineData(409, """{"error":"pid 4242 is already tracked under root 4000"}""", 0, "verbose: write-tracer: task 0 (pid 4242) of job 77.3 already traced: {{\"error\":\"pid 4242 is already tracked under root 4000\"}}")]
    public async Task The_tracers_answer_decides_and_is_logged(int status, string body, int postForkResult, string expectedLog)
    {
        await using var server = await RecordingHttpServer.StartTcpAsync(request => request.Method == "POST" ? (status, body) : (404, """{"error":"not registered"}"""));

        var (results, log) = await build.RunTaskAsync("remote", TaskPid, $"url={server.Url}", "required=1");

        Assert.Equal($"init=0 task_post_fork={postForkResult} task_exit=0", results);
        Assert.Contains(string.Format(expectedLog, new Uri(server.Url).Authority), log);
        // A 404 on exit only means the tracer saw the task exit first.
        Assert.DoesNotContain("not unregistered", log);
    }

    [Fact]
    public async Task A_tracer_that_never_answers_is_given_up_after_the_timeout()
    {
        // Connections complete in the kernel's backlog, but nothing ever accepts or answers them.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(8);
        var endpoint = (IPEndPoint)silent.LocalEndPoint!;

        var (results, log) = await build.RunTaskAsync("remote", TaskPid, $"url=http://{endpoint}", "timeout=300", "required=1");

        Assert.Equal("init=0 task_post_fork=-1 task_exit=0", results);
        Assert.Contains($"not traced: no response from {endpoint} within 300 ms", log);
        Assert.Contains($"not unregistered: no response from {endpoint} within 300 ms", log);
    }

    [Theory]
    [InlineData("bogus=1", "unknown argument 'bogus=1' (expected url=, socket=, token_file=, required= or timeout=)")]
    [InlineData("required=yes", "required=yes: expected 0 or 1")]
    [InlineData("timeout=0", "timeout=0: expected milliseconds from 1 to 60000")]
    [InlineData("timeout=60001", "timeout=60001: expected milliseconds from 1 to 60000")]
    [InlineData("url=http://127.0.0.1:1", "'url=http://127.0.0.1:1': this argument is given twice")]
    [InlineData("socket=/run/write-tracer.sock", "url= and socket= exclude each other: give one")]
    [InlineData("token_file=/nonexistent/token", "token_file=/nonexistent/token: No such file or directory")]
    public async Task A_bad_argument_next_to_a_good_url_fails_init_and_sends_nothing(string argument, string message)
    {
        await using var server = await RecordingHttpServer.StartTcpAsync(Answer);

        await AssertInitFailsAsync(message, $"url={server.Url}", argument);

        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("url=https://127.0.0.1:9092", "url=https://127.0.0.1:9092: expected http://ADDRESS:PORT (the API is plain HTTP on this host)")]
    [InlineData("url=http://tracer.example:9092", "url=http://tracer.example:9092: 'tracer.example' is not an IP address (IPv6 in brackets); host names are not resolved")]
    [InlineData("url=http://127.0.0.1:70000", "url=http://127.0.0.1:70000: the port is not a number from 1 to 65535")]
    [InlineData("url=http://127.0.0.1:", "url=http://127.0.0.1:: the port is not a number from 1 to 65535")]
    [InlineData("url=http://127.0.0.1:9092/api", "url=http://127.0.0.1:9092/api: give no path, the API is at the root")]
    [InlineData("url=http://[::1:9092", "url=http://[::1:9092: '[' without ']'")]
    [InlineData("socket=write-tracer.sock", "socket=write-tracer.sock: expected an absolute path")]
    public async Task A_bad_endpoint_fails_init_with_a_message_naming_it(string argument, string message)
    {
        await AssertInitFailsAsync(message, argument);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData(" \n\n", "the file is empty")]
    [InlineData("two words\n", "the token must be one line of visible ASCII characters")]
    [InlineData("line1\nline2\n", "the token must be one line of visible ASCII characters")]
    public async Task A_token_that_cannot_go_into_a_header_is_refused(string contents, string problem)
    {
        using var token = new TempFile();
        await File.WriteAllTextAsync(token.Path, contents);

        await AssertInitFailsAsync($"token_file={token.Path}: {problem}", $"token_file={token.Path}");
    }

    [Fact]
    public async Task An_IPv6_url_is_accepted_with_its_port()
    {
        // Nothing listens there: what matters is that init accepts it and the plugin dials [::1].
        var (results, log) = await build.RunTaskAsync("remote", TaskPid, "url=http://[::1]:1", "timeout=2000");

        Assert.Equal(AllHooksSucceed, results);
        Assert.Contains("not traced: connect to [::1]:1: ", log);
    }

    [Fact]
    public async Task Outside_slurmstepd_the_plugin_sends_nothing()
    {
        // srun, sbatch and salloc load plugstack.conf too; only slurmstepd has tasks to register.
        await using var server = await RecordingHttpServer.StartTcpAsync(Answer);

        var (results, log) = await build.RunTaskAsync("local", TaskPid, $"url={server.Url}", "required=1");

        Assert.Equal(AllHooksSucceed, results);
        Assert.Equal("", log);
        Assert.Empty(server.Requests);
    }

    /// <summary>Runs a task with these plugin arguments: init fails with exactly this message, and the task hooks do nothing.</summary>
    private async Task AssertInitFailsAsync(string message, params string[] arguments)
    {
        var (results, log) = await build.RunTaskAsync("remote", TaskPid, arguments);

        // As in slurmstepd, the task hooks still run after a failed init: they must do nothing.
        Assert.Equal("init=-1 task_post_fork=0 task_exit=0", results);
        Assert.Equal($"error: write-tracer: {message}\n", log);
    }

    private async Task<Dictionary<string, string>> DynamicSymbolsAsync(string filter)
    {
        var (exitCode, stdout, stderr) = await Shell.ExecAsync("nm", ["-D", filter, build.Plugin], Timeout);
        Assert.True(exitCode == 0, stderr);
        // "0000000000001360 T slurm_spank_init" or "                 U close@GLIBC_2.2.5"
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2..])
            .ToDictionary(fields => fields[1], fields => fields[0]);
    }
}
