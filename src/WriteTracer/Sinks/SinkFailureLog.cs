using Serilog;
using WriteTracer.Diagnostics;

namespace WriteTracer.Sinks;

/// <summary>
/// Reports a sink's delivery failures without flooding the log: at most one line per
/// interval, each with the events dropped since the previous line, and one line when
/// delivery works again after a reported failure.
/// </summary>
internal sealed class SinkFailureLog(string stage, TimeSpan interval, TimeProvider? time = null, Serilog.ILogger? log = null)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Serilog.ILogger _log = log ?? Log.Logger;
    private long? _lastLine;
    private long _unreportedDrops;
    private bool _failing;
    private bool _failureReported;

    public bool IsFailing => _failing;

    /// <summary>A failed attempt, and the events it cost (0 when they will be retried).</summary>
    public void Failed(string reason, long droppedEvents)
    {
        _failing = true;
        _unreportedDrops += droppedEvents;
        if (!TryTakeLine())
        {
            return;
        }
        if (_unreportedDrops > 0)
        {
            _log.Warning("{Stage} sink: {Reason}; {Dropped:l} dropped", stage, reason, Plural.Count(_unreportedDrops, "event", "events"));
        }
        else
        {
            _log.Warning("{Stage} sink: {Reason}; retrying", stage, reason);
        }
        _unreportedDrops = 0;
        _failureReported = true;
    }

    /// <summary>A successful delivery.</summary>
    public void Succeeded()
    {
        if (!_failing)
        {
            return;
        }
        _failing = false;
        // After a reported failure not rate-limited: it follows a failure line, which is.
        if (_failureReported || (_unreportedDrops > 0 && TryTakeLine()))
        {
            _lastLine = _time.GetTimestamp();
            if (_unreportedDrops > 0)
            {
                _log.Information("{Stage} sink: delivering again; {Dropped:l} dropped", stage, Plural.Count(_unreportedDrops, "more event was", "more events were"));
            }
            else
            {
                _log.Information("{Stage} sink: delivering again", stage);
            }
            _unreportedDrops = 0;
            _failureReported = false;
        }
    }

    private bool TryTakeLine()
    {
        var now = _time.GetTimestamp();
        if (_lastLine is { } last && _time.GetElapsedTime(last, now) < interval)
        {
            return false;
        }
        _lastLine = now;
        return true;
    }
}
