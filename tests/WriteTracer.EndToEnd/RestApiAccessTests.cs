using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.Versioning;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiTracer;

namespace WriteTracer.EndToEnd;

/// <summary>Who may talk to the API: token mode, Unix-socket mode, and start-up refusals.</summary>
[SupportedOSPlatform("linux")]
public sealed class RestApiAccessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-access-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootFact]
    public async Task With_a_token_file_every_request_without_the_token_gets_401()
    {
        var tokenFile = Path.Combine(_dir, "token");
        File.WriteAllText(tokenFile, "c0rrect-h0rse\n");
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var api = await StartAsync("--api-token-file", tokenFile);
        using var writer = WriterProcess.StartHeld("-n", "1");
        const string refusal = "this API requires 'Authorization: Bearer TOKEN' with the token of --api-token-file";

        string?[] wrong = [null, "Bearer wrong", "Bearer c0rrect-h0rse2", "Bearer c0rrect-h0rs", "Basic YTpi", "c0rrect-h0rse", "Bearer"];
        foreach (var authorization in wrong)
        {
            foreach (var (method, path) in new[] { ("GET", "/healthz"), ("GET", "/pids"), ("POST", "/pids"), ("DELETE", $"/pids/{writer.Pid}"), ("GET", "/openapi.json"), ("GET", "/nowhere") })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method == "POST")
                {
                    request.Content = Json($$"""{"pid": {{writer.Pid}}}""");
                }
                if (authorization is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", authorization);
                }
                var response = await api.Http.SendAsync(request);
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
                await AssertErrorAsync(response, HttpStatusCode.Unauthorized, refusal);
            }
        }
        Assert.Empty(api.KernelMap());

        api.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "c0rrect-h0rse");
        Assert.Equal(HttpStatusCode.OK, (await api.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(writer.Pid)).StatusCode);
        Assert.Equal([writer.Pid], await api.ListAsync());
        Assert.Equal(HttpStatusCode.OK, (await api.UnregisterAsync(writer.Pid)).StatusCode);
        Assert.Contains("(bearer token required)", api.Tracer.Stderr);
        Assert.DoesNotContain("readable by other users", api.Tracer.Stderr);
    }

    [RootTheory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData(null)]
    public async Task An_empty_or_missing_token_file_is_a_one_line_startup_error(string? content)
    {
        var tokenFile = Path.Combine(_dir, "token");
        if (content is not null)
        {
            File.WriteAllText(tokenFile, content);
        }
        await using var tracer = TracerProcess.Start("--rest-port", $"{FreePort.Get()}", "--api-token-file", tokenFile);

        Assert.Equal(1, await tracer.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var expected = content is null
            ? $"write-tracer: --api-token-file {tokenFile}: cannot read it: Could not find file '{tokenFile}'."
            : $"write-tracer: --api-token-file {tokenFile}: the file is empty";
        Assert.Equal(expected, LastLine(tracer.Stderr));
        Assert.DoesNotContain("   at ", tracer.Stderr);
    }

    [RootFact]
    public async Task A_busy_port_is_a_one_line_startup_error()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        await using var tracer = TracerProcess.Start("--rest-port", $"{port}");

        Assert.Equal(1, await tracer.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal($"write-tracer: --rest-port {port}: 127.0.0.1:{port} is already in use", LastLine(tracer.Stderr));
        Assert.DoesNotContain("   at ", tracer.Stderr);
    }

    [RootFact]
    public async Task The_unix_socket_is_owner_only_serves_the_api_and_is_removed_at_exit()
    {
        var socketPath = Path.Combine(_dir, "api.sock");
        await using var tracer = TracerProcess.Start("--rest-socket", socketPath);
        await tracer.WaitUntilTracingAsync();
        using var writer = WriterProcess.StartHeld("-n", "5");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socketPath));
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancel) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = new Uri("http://localhost") };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        // The Host check guards TCP only: a socket is reached through the file system, never by a browser.
        using (var anyHost = new HttpRequestMessage(HttpMethod.Get, "/pids"))
        {
            anyHost.Headers.Host = "any.example";
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(anyHost)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/pids", Json($$"""{"pid": {{writer.Pid}}}"""))).StatusCode);
        writer.Release();
        await tracer.WaitForEventsAsync(e => WriterLine.TryParse(e, out var line) && line.Pid == writer.Pid, 5, TimeSpan.FromSeconds(30));

        Assert.Equal(0, await tracer.StopAsync());
        Assert.False(File.Exists(socketPath));
    }

    private static string LastLine(string text) => text.TrimEnd('\n').Split('\n')[^1];
}
