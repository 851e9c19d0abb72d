namespace WriteTracer.Sinks.Loki;

/// <param name="Reason">What went wrong, with Loki's response text when there was one.</param>
/// <param name="RetryAfter">How long Loki asked to wait (Retry-After), when it did.</param>
internal readonly record struct LokiPushResult(LokiPushOutcome Outcome, string Reason = "", TimeSpan? RetryAfter = null)
{
    public static readonly LokiPushResult Accepted = new(LokiPushOutcome.Accepted);

    public static LokiPushResult Retry(string reason, TimeSpan? retryAfter = null) => new(LokiPushOutcome.Retry, reason, retryAfter);

    public static LokiPushResult Rejected(string reason) => new(LokiPushOutcome.Rejected, reason);
}
