using System.Net;
using System.Runtime.Versioning;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiClient;

namespace WriteTracer.EndToEnd;

/// <summary>
/// "You may trace what you could strace": the user nobody, identified by the kernel over TCP
/// loopback (the socket table) and over a Unix socket of mode 0666 (SO_PEERCRED), may trace
/// and untrack its own processes only; root and the token holder may do anything. Every
/// decision leaves an audit line.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class AuthorizationTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-auth-").FullName;

    public AuthorizationTests() => File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootTheory]
    [InlineData("tcp")]
    [InlineData("socket")]
    public async Task Nobody_traces_its_own_process_and_neither_traces_nor_untracks_roots(string transport)
    {
        var (tracer, target) = await StartAsync(transport);
        await using var running = tracer;
        using var own = WriterProcess.StartHeldAsNobody("-n", "5");
        using var roots = WriterProcess.StartHeld("-n", "5");
        var over = transport == "tcp" ? "loopback TCP" : "the Unix socket";

        var (status, body) = await RegisterAsNobodyAsync(target, own.Pid);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(own.Pid, body.GetProperty("pid").GetInt32());

        var refusal = $"uid {NobodyUid} may not trace process {roots.Pid} (owned by uid 0)";
        (status, body) = await RegisterAsNobodyAsync(target, roots.Pid);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(refusal, body.GetProperty("error").GetString());
        Assert.Equal(new Dictionary<int, int> { [own.Pid] = own.Pid }, KernelTrackedMap.Read(tracer.Pid));

        own.Release();
        roots.Release();
        Assert.Equal(0, await own.WaitForExitAsync(Timeout));
        Assert.Equal(0, await roots.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(e => WriterLine.TryParse(e, out var line) && line.Pid == own.Pid, 5, Timeout);

        // Root registers its process; nobody may not stop that, root may.
        using var rootsSecond = WriterProcess.StartHeld("-n", "5");
        (status, _) = await AsRootAsync(target, "POST", "/pids", $$"""{"pid": {{rootsSecond.Pid}}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var untrackRefusal = $"uid {NobodyUid} may not stop tracing process {rootsSecond.Pid} (registered by uid 0 and owned by uid 0)";
        (status, body) = await AsNobodyAsync(target, "DELETE", $"/pids/{rootsSecond.Pid}");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(untrackRefusal, body.GetProperty("error").GetString());
        Assert.Equal(new Dictionary<int, int> { [rootsSecond.Pid] = rootsSecond.Pid }, KernelTrackedMap.Read(tracer.Pid));
        rootsSecond.Release();
        Assert.Equal(0, await rootsSecond.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(e => WriterLine.TryParse(e, out var line) && line.Pid == rootsSecond.Pid, 5, Timeout);

        using var rootsThird = WriterProcess.StartHeld("-n", "1");
        (status, _) = await AsRootAsync(target, "POST", "/pids", $$"""{"pid": {{rootsThird.Pid}}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        (status, _) = await AsRootAsync(target, "DELETE", $"/pids/{rootsThird.Pid}");
        Assert.Equal(HttpStatusCode.OK, status);

        Assert.Equal(0, await tracer.StopAsync());
        // Nothing of root's first writer was traced.
        Assert.DoesNotContain(tracer.Events, e => e.GetProperty("pid").GetInt32() == roots.Pid);
        var nobody = $"uid {NobodyUid}";
        var nobodyOver = transport == "tcp" ? $"{nobody} over {over}" : $"{nobody} pid ";
        AssertAudit(tracer.Stderr, nobodyOver, $"POST /pids → 201: tracking process {own.Pid} (writer)");
        AssertAudit(tracer.Stderr, nobodyOver, $"POST /pids → 403: {refusal}");
        AssertAudit(tracer.Stderr, nobodyOver, $"DELETE /pids/{rootsSecond.Pid} → 403: {untrackRefusal}");
        AssertAudit(tracer.Stderr, "uid 0", $"POST /pids → 201: tracking process {rootsSecond.Pid} (writer)");
        AssertAudit(tracer.Stderr, "uid 0", $"DELETE /pids/{rootsThird.Pid} → 200: stopped tracking process {rootsThird.Pid} (writer) and its descendants");
    }

    [RootFact]
    public async Task Nobody_untracks_its_own_registration_and_root_untracks_it_too()
    {
        var (tracer, socket) = await StartAsync("socket");
        await using var running = tracer;
        using var first = WriterProcess.StartHeldAsNobody("-n", "1");
        using var second = WriterProcess.StartHeldAsNobody("-n", "1");

        Assert.Equal(HttpStatusCode.Created, (await RegisterAsNobodyAsync(socket, first.Pid)).Status);
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsNobodyAsync(socket, second.Pid)).Status);
        Assert.Equal(HttpStatusCode.OK, (await AsNobodyAsync(socket, "DELETE", $"/pids/{first.Pid}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await AsRootAsync(socket, "DELETE", $"/pids/{second.Pid}")).Status);
        Assert.Empty(KernelTrackedMap.Read(tracer.Pid));
        Assert.Equal(0, await tracer.StopAsync());
    }

    [RootFact]
    public async Task Over_the_socket_a_caller_holding_cap_sys_ptrace_is_an_administrator()
    {
        var (tracer, socket) = await StartAsync("socket");
        await using var running = tracer;
        using var roots = WriterProcess.StartHeld("-n", "1");

        var (exitCode, stdout, stderr) = await Shell.ExecAsync("setpriv",
            [.. Nobody, "--inh-caps=+sys_ptrace", "--ambient-caps=+sys_ptrace", Python, "-c",
                $$"""
                import http.client, socket
                class UnixConnection(http.client.HTTPConnection):
                    def connect(self):
                        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        self.sock.connect("{{socket}}")
                connection = UnixConnection("localhost")
                connection.request("POST", "/pids", body=b'{"pid": {{roots.Pid}}}', headers={"Content-Type": "application/json"})
                print(connection.getresponse().status)
                """], Timeout);

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("201", stdout.Trim());
        Assert.Equal(new Dictionary<int, int> { [roots.Pid] = roots.Pid }, KernelTrackedMap.Read(tracer.Pid));
        Assert.Equal(0, await tracer.StopAsync());
        AssertAudit(tracer.Stderr, $"uid {NobodyUid} pid ", "over the Unix socket (administrator): POST /pids → 201");
    }

    [RootFact]
    public async Task The_python_client_traces_its_block_through_the_socket_named_in_the_environment()
    {
        var (tracer, socket) = await StartAsync("socket");
        await using var running = tracer;

        var (exitCode, stdout, stderr) = await Shell.ExecAsync("setpriv",
            [.. Nobody, Python, "-c",
                $$"""
                import json, os, sys
                sys.path.insert(0, "{{Path.Combine(Repository.Root, "utilities", "python")}}")
                from writetracer import WriteTracer
                with WriteTracer().tracing() as registration:
                    for i in range(4):
                        os.write(1, f"in the block {i}\n".encode())
                os.write(1, b"after the block\n")
                print(json.dumps({"registered": registration["pid"], "own": os.getpid()}))
                """], Timeout, new Dictionary<string, string> { ["WRITE_TRACER_SOCKET"] = socket });

        Assert.True(exitCode == 0, stderr);
        var report = System.Text.Json.JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        var pid = report.GetProperty("own").GetInt32();
        Assert.Equal(pid, report.GetProperty("registered").GetInt32());
        Assert.Equal(0, await tracer.StopAsync());
        var lines = tracer.Events.Where(e => e.GetProperty("pid").GetInt32() == pid).Select(e => e.GetProperty("data").GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"in the block {i}\n"), lines);
        AssertAudit(tracer.Stderr, $"uid {NobodyUid} pid {pid} over the Unix socket", $"POST /pids/self → 201");
    }

    [RootFact]
    public async Task The_token_makes_any_caller_an_administrator()
    {
        var tokenFile = Path.Combine(_dir, "token");
        File.WriteAllText(tokenFile, "adm1n-t0ken\n");
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var port = FreePort.Get();
        await using var tracer = TracerProcess.Start("--rest-port", $"{port}", "--api-token-file", tokenFile);
        await tracer.WaitUntilTracingAsync();
        using var roots = WriterProcess.StartHeld("-n", "3");

        var (status, body) = await RegisterAsNobodyAsync($"{port}", roots.Pid, token: "adm1n-t0ken");
        Assert.Equal(HttpStatusCode.Created, status);
        roots.Release();
        Assert.Equal(0, await roots.WaitForExitAsync(Timeout));
        await tracer.WaitForEventsAsync(e => WriterLine.TryParse(e, out var line) && line.Pid == roots.Pid, 3, Timeout);

        using var other = WriterProcess.StartHeld("-n", "1");
        Assert.Equal(HttpStatusCode.Created, (await AsRootAsync($"{port}", "POST", "/pids", $$"""{"pid": {{other.Pid}}}""", "adm1n-t0ken")).Status);
        (status, body) = await AsNobodyAsync($"{port}", "DELETE", $"/pids/{other.Pid}", token: "adm1n-t0ken");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, await tracer.StopAsync());
        AssertAudit(tracer.Stderr, $"uid {NobodyUid} with the token over loopback TCP (administrator)", $"DELETE /pids/{other.Pid} → 200");
    }

    [RootTheory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public async Task A_non_loopback_address_without_a_token_is_refused(string address)
    {
        var (exitCode, stdout, stderr) = await Shell.ExecAsync(Repository.Tracer,
            ["--rest-port", $"{FreePort.Get()}", "--rest-address", address, "--metrics-port", "0"], Timeout);

        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout);
        Assert.Equal($"write-tracer: --rest-address {address}: callers from other hosts cannot be identified; a non-loopback address needs --api-token-file\n", stderr);
    }

    /// <summary>A tracer with its API on TCP loopback or on a Unix socket of mode 0666; the target for <see cref="ApiClient"/>.</summary>
    private async Task<(TracerProcess Tracer, string Target)> StartAsync(string transport)
    {
        var port = FreePort.Get();
        var socket = Path.Combine(_dir, "api.sock");
        var tracer = transport == "tcp"
            ? TracerProcess.Start("--rest-port", $"{port}")
            : TracerProcess.Start("--rest-socket", socket, "--rest-socket-mode", "0666");
        await tracer.WaitUntilTracingAsync();
        if (transport != "tcp")
        {
            Assert.Equal((UnixFileMode)0b110_110_110, File.GetUnixFileMode(socket));
        }
        return (tracer, transport == "tcp" ? $"{port}" : socket);
    }

    /// <summary>The tracer logged the audit line of this caller's request and the decision on it.</summary>
    private static void AssertAudit(string stderr, string caller, string decision) =>
        Assert.Contains(stderr.Split('\n'), line =>
            line.Contains(" INF audit: " + caller, StringComparison.Ordinal) && line.Contains(decision, StringComparison.Ordinal));
}
