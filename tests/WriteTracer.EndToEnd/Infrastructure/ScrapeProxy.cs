using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// Stands between Prometheus and the tracer's /metrics: passes every scrape on, with
/// Prometheus's own Accept header (which prefers OpenMetrics) or with one that asks for the
/// text format, and records the Content-Type of every answer, so a test knows which
/// exposition format the real Prometheus parsed.
/// </summary>
internal sealed class ScrapeProxy : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly ConcurrentQueue<string> _contentTypes = new();
    private WebApplication _app = null!;

    private ScrapeProxy()
    {
    }

    /// <summary>host:port for Prometheus to scrape.</summary>
    public string Target { get; private set; } = "";

    public IReadOnlyList<string> ContentTypes => [.. _contentTypes];

    /// <param name="accept">The Accept header sent to the tracer; null passes Prometheus's on.</param>
    public static async Task<ScrapeProxy> StartAsync(int metricsPort, string? accept)
    {
        var proxy = new ScrapeProxy();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/metrics", async (HttpRequest request) =>
        {
            using var forwarded = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{metricsPort}/metrics");
            forwarded.Headers.TryAddWithoutValidation("Accept", accept ?? request.Headers.Accept.ToString());
            using var response = await Http.SendAsync(forwarded);
            var contentType = response.Content.Headers.ContentType?.ToString() ?? "";
            proxy._contentTypes.Enqueue(contentType);
            return Results.Bytes(await response.Content.ReadAsByteArrayAsync(), contentType);
        });
        await app.StartAsync();
        proxy._app = app;
        proxy.Target = $"127.0.0.1:{new Uri(app.Urls.Single()).Port}";
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
