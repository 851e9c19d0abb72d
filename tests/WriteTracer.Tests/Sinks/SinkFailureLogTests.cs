using WriteTracer.Sinks;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Sinks;

public class SinkFailureLogTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly ManualTime _time = new();
    private readonly LogCollector _log = new();

    [Fact]
    public void Failures_are_logged_at_most_once_per_interval_with_the_events_dropped_meanwhile()
    {
        var failures = new SinkFailureLog("file", Interval, _time, _log.Logger);

        failures.Failed("disk full", 5);
        failures.Failed("disk full", 7);
        _time.Advance(TimeSpan.FromSeconds(9));
        failures.Failed("disk full", 1);
        Assert.Equal(["Warning: \"file\" sink: \"disk full\"; 5 events dropped"], _log.Lines);

        _time.Advance(TimeSpan.FromSeconds(1));
        failures.Failed("disk full", 2);
        Assert.Equal(2, _log.Lines.Count);
        Assert.Equal("Warning: \"file\" sink: \"disk full\"; 10 events dropped", _log.Lines[1]);
        Assert.True(failures.IsFailing);
    }

    [Fact]
    public void Recovery_after_a_reported_failure_is_logged_once_with_the_unreported_drops()
    {
        var failures = new SinkFailureLog("loki", Interval, _time, _log.Logger);
        failures.Succeeded();
        Assert.Empty(_log.Lines);

        failures.Failed("503", 0);
        failures.Failed("503", 4);
        failures.Succeeded();
        failures.Succeeded();

        Assert.Equal(
            ["Warning: \"loki\" sink: \"503\"; retrying", "Information: \"loki\" sink: delivering again; 4 more events were dropped"],
            _log.Lines);
        Assert.False(failures.IsFailing);
    }

    [Fact]
    public void One_event_is_counted_in_the_singular()
    {
        var failures = new SinkFailureLog("file", Interval, _time, _log.Logger);

        failures.Failed("disk full", 1);
        failures.Failed("disk full", 1);
        failures.Succeeded();

        Assert.Equal(
            ["Warning: \"file\" sink: \"disk full\"; 1 event dropped", "Information: \"file\" sink: delivering again; 1 more event was dropped"],
            _log.Lines);
    }

    [Fact]
    public void A_flapping_sink_logs_at_most_a_failure_and_a_recovery_per_interval()
    {
        var failures = new SinkFailureLog("file", Interval, _time, _log.Logger);
        for (var i = 0; i < 100; i++)
        {
            failures.Failed("I/O error", 1);
            failures.Succeeded();
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }
        // 5 s of flapping: the first failure and its recovery, nothing more.
        Assert.Equal(2, _log.Lines.Count);
    }
}
