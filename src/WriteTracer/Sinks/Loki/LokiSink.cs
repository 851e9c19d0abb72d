using System.Diagnostics;
using WriteTracer.Events;

namespace WriteTracer.Sinks.Loki;

/// <summary>
/// Pushes events to Loki in batches of up to 1 MiB of lines or 1 s. Failed pushes
/// are retried with exponential backoff and jitter (sooner never than Loki's
/// Retry-After) and given up after a bounded time; while a push is retried, new
/// events wait in the sink's bounded queue, and what the queue cannot hold is
/// counted as dropped. Refused pushes (4xx other than 429) are dropped and counted.
/// </summary>
internal sealed class LokiSink : EventSink
{
    public const int MaxBatchBytes = 1 << 20;
    public static readonly TimeSpan MaxBatchWait = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultGiveUpAfter = TimeSpan.FromMinutes(5);
    private const int MaxBatchEvents = 1 << 14;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly LokiPushClient _client;
    private readonly TimeSpan _giveUpAfter;
    private readonly SinkFailureLog _failures;
    /// <summary>Copies of the events of the next push (the sink's own, so shared batches go back to the pool).</summary>
    private readonly EventBatch _pending = new EventBatchPool(MaxBatchBytes, MaxBatchEvents, maxPooled: 1).Rent();
    private long _pendingSince;
    private long _pushesAccepted;
    private long _pushesRetried;
    private long _pushesFailed;

    public LokiSink(LokiPushClient client, long capacityEvents, TimeSpan giveUpAfter)
        // Always JSON, whatever --format says: Loki's consumers parse the lines with LogQL's "| json".
        : base("loki", capacityEvents, idleInterval: TimeSpan.FromMilliseconds(200), EventFormat.Json)
    {
        _client = client;
        _giveUpAfter = giveUpAfter;
        _failures = new SinkFailureLog(Stage, SinkFailureLog.DefaultInterval);
    }

    /// <summary>Pushes Loki accepted.</summary>
    public long PushesAccepted => Interlocked.Read(ref _pushesAccepted);

    /// <summary>Attempts that failed in a way worth retrying (429, 5xx, network).</summary>
    public long PushesRetried => Interlocked.Read(ref _pushesRetried);

    /// <summary>Pushes given up (retries exhausted, refused, or cut off at shutdown): their events are dropped.</summary>
    public long PushesFailed => Interlocked.Read(ref _pushesFailed);

    protected override void Write(EventBatch batch)
    {
        if (FlushDeadline.IsCancellationRequested)
        {
            CountDropped(batch.Count);
            return;
        }
        if (!_pending.TryAppend(batch))
        {
            Push();
            if (!_pending.TryAppend(batch))
            {
                throw new InvalidOperationException($"a batch of {batch.Length} bytes exceeds the Loki batch size");
            }
        }
        if (_pending.Count == batch.Count)
        {
            _pendingSince = Stopwatch.GetTimestamp();
        }
        PushIfDue();
    }

    protected override void OnIdle() => PushIfDue();

    /// <summary>The last push; its retries end at the flush deadline.</summary>
    protected override void OnCompleted() => Push();

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    private void PushIfDue()
    {
        if (_pending.Count > 0 && Stopwatch.GetElapsedTime(_pendingSince) >= MaxBatchWait)
        {
            Push();
        }
    }

    private void Push()
    {
        if (_pending.Count == 0)
        {
            return;
        }
        var events = _pending.Count;
        try
        {
            _client.Encode(_pending);
        }
        catch (Exception e)
        {
            _pending.Reset();
            GiveUp(events, $"the push could not be built ({e.Message})");
            return;
        }
        _pending.Reset();
        Deliver(events);
    }

    private void Deliver(int events)
    {
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 0; ; attempt++)
        {
            LokiPushResult result;
            try
            {
                result = _client.Send(FlushDeadline);
            }
            catch (OperationCanceledException)
            {
                GiveUp(events, "the shutdown deadline passed before Loki answered");
                return;
            }
            catch (Exception e)
            {
                GiveUp(events, $"the push failed unexpectedly ({e.Message})");
                return;
            }
            switch (result.Outcome)
            {
                case LokiPushOutcome.Accepted:
                    Interlocked.Increment(ref _pushesAccepted);
                    CountDelivered(events);
                    _failures.Succeeded();
                    return;
                case LokiPushOutcome.Rejected:
                    GiveUp(events, $"Loki refused the push ({result.Reason})");
                    return;
            }
            Interlocked.Increment(ref _pushesRetried);
            var delay = result.RetryAfter ?? Backoff(attempt);
            if (Stopwatch.GetElapsedTime(started) + delay > _giveUpAfter)
            {
                GiveUp(events, $"no success for {_giveUpAfter.TotalSeconds:0} s ({result.Reason})");
                return;
            }
            _failures.Failed($"push to {_client.Endpoint} failed ({result.Reason})", 0);
            if (FlushDeadline.WaitHandle.WaitOne(delay))
            {
                GiveUp(events, $"the shutdown deadline passed while retrying ({result.Reason})");
                return;
            }
        }
    }

    private void GiveUp(int events, string reason)
    {
        Interlocked.Increment(ref _pushesFailed);
        CountDropped(events);
        _failures.Failed($"gave up on a push of {events} events: {reason}", events);
    }

    /// <summary>Exponential, capped, with jitter so many tracers do not retry in step.</summary>
    private static TimeSpan Backoff(int attempt)
    {
        var exponential = FirstBackoff * Math.Pow(2, Math.Min(attempt, 16));
        var capped = exponential < MaxBackoff ? exponential : MaxBackoff;
        return capped * (0.5 + Random.Shared.NextDouble() / 2);
    }
}
