using System.Diagnostics;
using Serilog;
using WriteTracer.Events;

namespace WriteTracer.Sinks.Loki;

/// <summary>
/// Pushes events to Loki in batches of up to 1 MiB of lines or 1 s. Failed pushes
/// are retried with exponential backoff and jitter (sooner never than Loki's
/// Retry-After) and given up after a bounded time; while a push is retried, new
/// events wait in the sink's bounded queue, and what the queue cannot hold is
/// counted as dropped. Refused pushes (4xx other than 429) are dropped and counted,
/// except a refusal of structured metadata, after which the same entries go again without
/// it. A push that went out and was never answered (the shutdown timeout cut it off, or
/// retries ended on no answer) is unconfirmed: Loki may have stored it.
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
    private long _pushesUnconfirmed;

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

    /// <summary>Pushes given up (retries exhausted or refused): their events are dropped.</summary>
    public long PushesFailed => Interlocked.Read(ref _pushesFailed);

    /// <summary>Pushes sent but never answered, given up at the shutdown timeout or after retries: their events are unconfirmed.</summary>
    public long PushesUnconfirmed => Interlocked.Read(ref _pushesUnconfirmed);

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

    /// <summary>The last push; its retries end at the shutdown timeout.</summary>
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
        try
        {
            Deliver(_pending.Count);
        }
        finally
        {
            _pending.Reset();
        }
    }

    /// <summary>Encodes the pending events for the push; false (and the events dropped) when that fails.</summary>
    private bool TryEncode(int events)
    {
        try
        {
            _client.Encode(_pending);
            return true;
        }
        catch (Exception e)
        {
            GiveUp(events, $"the push could not be built ({e.Message})", unanswered: false);
            return false;
        }
    }

    private void Deliver(int events)
    {
        if (!TryEncode(events))
        {
            return;
        }
        var started = Stopwatch.GetTimestamp();
        // Once an attempt went out unanswered, Loki may hold the events: giving up is then "unconfirmed".
        var unanswered = false;
        for (var attempt = 0; ; attempt++)
        {
            LokiPushResult result;
            try
            {
                result = _client.Send(FlushDeadline);
            }
            catch (OperationCanceledException)
            {
                GiveUp(events, _client.LastBodySent ? "the shutdown timeout passed before Loki answered"
                    : "the shutdown timeout passed before the push went out", unanswered || _client.LastBodySent);
                return;
            }
            catch (Exception e)
            {
                GiveUp(events, $"the push failed unexpectedly ({e.Message})", unanswered);
                return;
            }
            unanswered |= result.Unanswered;
            switch (result.Outcome)
            {
                case LokiPushOutcome.Accepted:
                    Interlocked.Increment(ref _pushesAccepted);
                    CountDelivered(events);
                    _failures.Succeeded();
                    return;
                case LokiPushOutcome.Rejected when _client.SendsStructuredMetadata && LokiPushClient.RefusesStructuredMetadata(result):
                    Interlocked.Increment(ref _pushesRetried);
                    Log.Warning("Loki refused structured metadata ({Reason}); sending entries without it from now on (each line still holds root_pid)",
                        result.Reason);
                    _client.StopSendingStructuredMetadata();
                    if (!TryEncode(events))
                    {
                        return;
                    }
                    continue;
                case LokiPushOutcome.Rejected:
                    GiveUp(events, $"Loki refused the push ({result.Reason})", unanswered);
                    return;
            }
            Interlocked.Increment(ref _pushesRetried);
            var delay = result.RetryAfter ?? Backoff(attempt);
            if (Stopwatch.GetElapsedTime(started) + delay > _giveUpAfter)
            {
                GiveUp(events, $"no success for {_giveUpAfter.TotalSeconds:0} s ({result.Reason})", unanswered);
                return;
            }
            _failures.Failed($"push to {_client.Endpoint} failed ({result.Reason})", 0);
            if (FlushDeadline.WaitHandle.WaitOne(delay))
            {
                GiveUp(events, $"the shutdown timeout passed while retrying ({result.Reason})", unanswered);
                return;
            }
        }
    }

    /// <param name="unanswered">Some attempt went out without an answer: the events are unconfirmed rather than dropped.</param>
    private void GiveUp(int events, string reason, bool unanswered)
    {
        if (unanswered)
        {
            Interlocked.Increment(ref _pushesUnconfirmed);
            CountUnconfirmed(events);
            Log.Warning("{Stage} sink: gave up on a push of {Events} events, unconfirmed: Loki may or may not have stored them ({Reason})",
                Stage, events, reason);
            return;
        }
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
