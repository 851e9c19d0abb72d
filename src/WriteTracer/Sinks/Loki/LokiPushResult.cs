namespace WriteTracer.Sinks.Loki;

/// <param name="Reason">What went wrong, with Loki's response text when there was one.</param>
/// <param name="RetryAfter">How long Loki asked to wait (Retry-After), when it did.</param>
/// <param name="Unanswered">The request went out and no answer came: Loki may have stored it.</param>
internal readonly record struct LokiPushResult(LokiPushOutcome Outcome, string Reason = "", TimeSpan? RetryAfter = null, bool Unanswered = false)
{
    public static readonly LokiPushResult Accepted = new(LokiPushOutcome.Accepted);

    public static LokiPushResult Retry(string reason, TimeSpan? retryAfter = null) => new(LokiPushOutcome.Retry, reason, retryAfter);

    public static LokiPushResult NoAnswer(string reason) => new(LokiPushOutcome.Retry, reason, Unanswered: true);

    public static LokiPushResult Rejected(string reason) => new(LokiPushOutcome.Rejected, reason);
}
