using System.Globalization;
using System.Net.Http.Headers;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>One scrape of the tracer's /metrics: samples by series ("name" or "name{label=\"value\"}").</summary>
internal sealed class MetricsPage
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private MetricsPage(string text, MediaTypeHeaderValue? contentType, IReadOnlyDictionary<string, double> samples)
    {
        Text = text;
        ContentType = contentType;
        Samples = samples;
    }

    public string Text { get; }

    public MediaTypeHeaderValue? ContentType { get; }

    public IReadOnlyDictionary<string, double> Samples { get; }

    public double this[string series] =>
        Samples.TryGetValue(series, out var value) ? value : throw new KeyNotFoundException($"no sample {series} in:\n{Text}");

    public static async Task<MetricsPage> ScrapeAsync(int port)
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{port}/metrics");
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync();
        var samples = text.Split('\n')
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
        return new MetricsPage(text, response.Content.Headers.ContentType, samples);
    }

    /// <summary>Scrapes until the condition holds (a failure guard, not a timing assertion).</summary>
    public static async Task<MetricsPage> WaitForAsync(int port, Func<MetricsPage, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var page = await ScrapeAsync(port);
            if (condition(page))
            {
                return page;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"/metrics did not reach the expected state within {timeout}:\n{page.Text}");
            }
            await Task.Delay(100);
        }
    }
}
