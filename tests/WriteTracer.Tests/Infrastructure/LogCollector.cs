using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>A Serilog logger whose lines the test can read back.</summary>
internal sealed class LogCollector : ILogEventSink
{
    private readonly List<string> _lines = [];

    public LogCollector() => Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    public Serilog.ILogger Logger { get; }

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    public void Emit(LogEvent logEvent)
    {
        lock (_lines)
        {
            _lines.Add($"{logEvent.Level}: {logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)}");
        }
    }
}
