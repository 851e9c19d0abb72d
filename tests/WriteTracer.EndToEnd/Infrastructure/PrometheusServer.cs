using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian's prometheus package, installed by `make deps`)
/// with a temporary configuration and data directory, scraping one target every second.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Process _process;
    private readonly TempFile _directory;
    private readonly StringBuilder _log = new();

    private PrometheusServer(Process process, TempFile directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static async Task<PrometheusServer> StartAsync(string target)
    {
        const string binary = "/usr/bin/prometheus";
        if (!File.Exists(binary))
        {
            throw new FileNotFoundException($"{binary} is missing: install Debian's prometheus package (make deps)", binary);
        }
        var directory = new TempFile();
        var config = Path.Combine(directory.Directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: write-tracer
                static_configs:
                  - targets: ["{target}"]
            """);
        var port = FreePort.Get();
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory.Directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            start.ArgumentList.Add(arg);
        }
        var server = new PrometheusServer(Process.Start(start)!, directory, port);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await server.WaitUntilReadyAsync();
        return server;
    }

    /// <summary>The value of an instant query that yields one sample, or null while it yields none.</summary>
    public async Task<double?> QueryAsync(string query)
    {
        var url = $"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(query)}";
        using var document = JsonDocument.Parse(await Http.GetStringAsync(url));
        var data = document.RootElement.GetProperty("data");
        var result = data.GetProperty("result");
        return result.GetArrayLength() switch
        {
            0 => null,
            1 => double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture),
            _ => throw new InvalidOperationException($"{query} yields {result.GetArrayLength()} series: {result}"),
        };
    }

    /// <summary>Queries until the value is the expected one (a failure guard: Prometheus scrapes every second).</summary>
    public async Task<double?> WaitForValueAsync(string query, double expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        double? value;
        while ((value = await QueryAsync(query)) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        return value;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _directory.Dispose();
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited ({_process.ExitCode}):\n{Log}");
            }
            try
            {
                using var response = await Http.GetAsync($"http://127.0.0.1:{Port}/-/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"prometheus was not ready within a minute:\n{Log}");
            }
            await Task.Delay(200);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}
