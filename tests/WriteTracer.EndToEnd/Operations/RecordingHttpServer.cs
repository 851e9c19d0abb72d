using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>One request as the server received it.</summary>
internal sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A real HTTP server (Kestrel) on a free loopback port or a Unix socket, standing in for the
/// tracer's REST API: it records every request and answers with what the test chose.
/// </summary>
internal sealed class RecordingHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private RecordingHttpServer(WebApplication app) => _app = app;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>http://127.0.0.1:PORT, or http://unix:PATH.</summary>
    public string Url { get; private set; } = "";

    public static Task<RecordingHttpServer> StartTcpAsync(Func<RecordedRequest, (int Status, string Body)> respond) =>
        StartAsync(kestrel => kestrel.Listen(IPAddress.Loopback, 0), respond);

    public static Task<RecordingHttpServer> StartUnixAsync(string path, Func<RecordedRequest, (int Status, string Body)> respond) =>
        StartAsync(kestrel => kestrel.ListenUnixSocket(path), respond);

    private static async Task<RecordingHttpServer> StartAsync(
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions> listen,
        Func<RecordedRequest, (int Status, string Body)> respond)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(listen);
        var server = new RecordingHttpServer(builder.Build());
        server._app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var request = new RecordedRequest(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                await reader.ReadToEndAsync());
            server._requests.Enqueue(request);
            var (status, body) = respond(request);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        await server._app.StartAsync();
        server.Url = server._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
