using WriteTracer.Tests.Infrastructure;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.Json;
using WriteTracer.Api;
using WriteTracer.Cli;
using WriteTracer.Hosting;
using WriteTracer.Tests.Tracking;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Api;

/// <summary>
/// The API in this process on real Kestrel, over a fake registry: the states a running
/// tracer passes through too quickly to observe from outside, and socket-path handling.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RestApiLifecycleTests : IDisposable
{
    private readonly ProcFixture _proc = new();
    private readonly PidManager _pids;
    private readonly CgroupRegistry _cgroups;
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-api-").FullName;

    public RestApiLifecycleTests()
    {
        var registries = new TestRegistries(_proc.ProcFs, Environment.ProcessId);
        (_pids, _cgroups) = (registries.Pids, registries.Cgroups);
    }

    public void Dispose()
    {
        _proc.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Healthz_is_503_until_events_are_read_and_again_once_stopping()
    {
        var port = FreePort();
        await using var api = await RestApi.StartAsync(new TracerOptions { RestPort = port }, _pids, _cgroups);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        await AssertHealthAsync(http, HttpStatusCode.ServiceUnavailable,
            "the tracer is starting: its BPF program is loaded but no events are read yet");
        api.MarkReady();
        var ok = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await ok.Content.ReadAsStringAsync());

        var stopping = api.StopAsync();
        await stopping;
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/healthz"));
    }

    [Fact]
    public async Task A_stale_socket_is_replaced_and_the_new_one_is_owner_only()
    {
        var path = Path.Combine(_dir, "api.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path)); // closed without unlink: what SIGKILL leaves
        }

        await using var api = await RestApi.StartAsync(new TracerOptions { RestSocket = path }, _pids, _cgroups);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var http = UnixSocketClient(path);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/pids")).StatusCode);
        await api.StopAsync();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_live_socket_another_file_or_a_missing_directory_at_the_socket_path_is_an_error()
    {
        var path = Path.Combine(_dir, "api.sock");
        await using (var first = await RestApi.StartAsync(new TracerOptions { RestSocket = path }, _pids, _cgroups))
        {
            var busy = await Assert.ThrowsAsync<StartupException>(() => RestApi.StartAsync(new TracerOptions { RestSocket = path }, _pids, _cgroups));
            Assert.Equal($"--rest-socket {path}: another process is listening on it", busy.Message);
            await first.StopAsync();
        }

        var missing = Path.Combine(_dir, "missing", "api.sock");
        var noDirectory = await Assert.ThrowsAsync<StartupException>(() => RestApi.StartAsync(new TracerOptions { RestSocket = missing }, _pids, _cgroups));
        Assert.Equal($"--rest-socket {missing}: the directory {Path.Combine(_dir, "missing")} does not exist", noDirectory.Message);

        var file = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(file, "keep me");
        var error = await Assert.ThrowsAsync<StartupException>(() => RestApi.StartAsync(new TracerOptions { RestSocket = file }, _pids, _cgroups));
        Assert.Equal($"--rest-socket {file}: the path exists and is not a socket", error.Message);
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public async Task A_busy_port_is_a_one_line_startup_error()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<StartupException>(() => RestApi.StartAsync(new TracerOptions { RestPort = port }, _pids, _cgroups));

        Assert.Equal($"--rest-port {port}: 127.0.0.1:{port} is already in use", error.Message);
    }

    private static async Task AssertHealthAsync(HttpClient http, HttpStatusCode status, string error)
    {
        var response = await http.GetAsync("/healthz");
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(error, body.RootElement.GetProperty("error").GetString());
    }

    private static HttpClient UnixSocketClient(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancel) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel);
            return new NetworkStream(socket, ownsSocket: true);
        },
    }) { BaseAddress = new Uri("http://localhost") };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
