using System.Net;
using Prometheus;
using WriteTracer.Hosting;

namespace WriteTracer.Metrics;

/// <summary>
/// The Prometheus endpoint: GET /metrics on its own small Kestrel server, served by
/// prometheus-net, which answers in OpenMetrics when the scraper asks for it (Accept) and
/// in the text format 0.0.4 otherwise.
/// </summary>
internal sealed class MetricsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MetricsServer(WebApplication app) => _app = app;

    /// <summary>Starts listening; a port that cannot be bound is a start-up error.</summary>
    public static async Task<MetricsServer> StartAsync(IPAddress address, int port, TracerMetrics metrics)
    {
        var builder = EmbeddedServer.CreateBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));
        var app = builder.Build();
        app.MapMetrics(settings => settings.Registry = metrics.Registry, "/metrics");
        await EmbeddedServer.StartAsync(app, e =>
            $"--metrics-port: cannot listen on {new IPEndPoint(address, port)}: {(e.InnerException ?? e).Message}");
        Serilog.Log.Information("Prometheus metrics on http://{Endpoint}/metrics", new IPEndPoint(address, port));
        return new MetricsServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
