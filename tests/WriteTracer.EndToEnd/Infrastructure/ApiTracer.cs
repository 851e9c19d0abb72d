using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>The built tracer with its REST API on a free loopback port, and a client for it.</summary>
internal sealed class ApiTracer : IAsyncDisposable
{
    private ApiTracer(TracerProcess tracer, int port)
    {
        Tracer = tracer;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public TracerProcess Tracer { get; }

    public int Port { get; }

    public HttpClient Http { get; }

    /// <summary>Starts the tracer with --rest-port and the given arguments; returns once the API listens.</summary>
    public static Task<ApiTracer> StartAsync(params string[] args) => StartAsync(new Dictionary<string, string>(), args);

    /// <summary>The same, with these environment variables added to the test's.</summary>
    public static async Task<ApiTracer> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var port = FreePort.Get();
        var tracer = TracerProcess.Start(Repository.Tracer, [.. args, "--rest-port", $"{port}"], environment);
        try
        {
            await tracer.WaitUntilTracingAsync();
        }
        catch
        {
            await tracer.DisposeAsync();
            throw;
        }
        return new ApiTracer(tracer, port);
    }

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public Task<HttpResponseMessage> RegisterAsync(int pid) => Http.PostAsync("/pids", Json($$"""{"pid": {{pid}}}"""));

    public Task<HttpResponseMessage> UnregisterAsync(int pid) => Http.DeleteAsync($"/pids/{pid}");

    /// <summary>The pids GET /pids lists.</summary>
    public async Task<IReadOnlyList<int>> ListAsync()
    {
        var (status, body) = await ReadAsync(await Http.GetAsync("/pids"));
        Assert.Equal(HttpStatusCode.OK, status);
        var pids = body.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32()).ToList();
        Assert.Equal(pids.Count, body.GetProperty("total").GetInt32());
        return pids;
    }

    /// <summary>The kernel's tracked map: pid → root pid.</summary>
    public Dictionary<int, int> KernelMap() => KernelTrackedMap.Read(Tracer.Pid);

    public static async Task<(HttpStatusCode Status, JsonElement Body)> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
        }
    }

    /// <summary>Asserts the status and that the body is exactly {"error": expected}.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string expected)
    {
        var (actual, body) = await ReadAsync(response);
        Assert.Equal(status, actual);
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(expected, body.GetProperty("error").GetString());
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Tracer.DisposeAsync();
    }
}
