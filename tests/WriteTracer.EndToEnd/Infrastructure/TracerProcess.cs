using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// The built tracer (bin/write-tracer, or another build of it) running as a separate process: its stdout
/// parsed as events, its stderr kept for diagnostics and readiness.
/// </summary>
internal sealed class TracerProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TracerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the built tracer; metrics are off unless the arguments set --metrics-port.</summary>
    public static TracerProcess Start(params string[] args) => Start(Repository.Tracer, args);

    /// <summary>
    /// Starts this tracer binary with these arguments and environment variables added to the
    /// test's; metrics are off unless the arguments or WRITE_TRACER_METRICS_PORT set them.
    /// </summary>
    public static TracerProcess Start(string binary, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        if (!args.Contains("--metrics-port") && environment?.ContainsKey("WRITE_TRACER_METRICS_PORT") != true)
        {
            start.ArgumentList.Add("--metrics-port");
            start.ArgumentList.Add("0");
        }
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        var tracer = new TracerProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                tracer._stdoutClosed.TrySetResult();
            }
            else
            {
                tracer._stdout.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (tracer._stderr)
                {
                    tracer._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tracer;
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public IReadOnlyList<string> StdoutLines => [.. _stdout];

    /// <summary>Every stdout line parsed as a JSON event.</summary>
    public IReadOnlyList<JsonElement> Events =>
        [.. _stdout.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement)];

    /// <summary>
    /// Once tracing, releases the held writer, waits for it to exit 0, then stops the tracer,
    /// which must exit 0 too. Everything the writer wrote was in the ring when it exited, and
    /// stopping flushes every sink, so the outputs are complete when this returns.
    /// </summary>
    public async Task TraceToCompletionAsync(WriterProcess writer, TimeSpan timeout)
    {
        await WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(timeout));
        Assert.Equal(0, await StopAsync());
    }

    /// <summary>Waits for the "tracing" line the tracer logs once BPF is attached and the roots registered.</summary>
    public Task WaitUntilTracingAsync() => WaitForStderrAsync("tracing writes", StartTimeout);

    public async Task WaitForStderrAsync(string fragment, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!Stderr.Contains(fragment, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the tracer exited ({_process.ExitCode}) before logging '{fragment}':\n{Stderr}");
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"the tracer did not log '{fragment}' within {timeout}:\n{Stderr}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until at least count events matching the predicate have arrived.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForEventsAsync(Func<JsonElement, bool> predicate, int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var matching = Events.Where(predicate).ToList();
            if (matching.Count >= count)
            {
                return matching;
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{matching.Count} of {count} events within {timeout}:\n{Stderr}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>SIGTERM, then the exit code once stdout is fully read.</summary>
    public async Task<int> StopAsync(int signal = Privileges.SIGTERM)
    {
        if (!_process.HasExited)
        {
            Privileges.Signal(_process.Id, signal);
        }
        return await WaitForExitAsync(TimeSpan.FromSeconds(15));
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            await _stdoutClosed.Task.WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the tracer did not exit within {timeout}:\n{Stderr}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
