namespace WriteTracer.Sinks.Loki;

internal enum LokiPushOutcome
{
    /// <summary>Loki stored the push (2xx).</summary>
    Accepted,
    /// <summary>Worth retrying: 429, 5xx, no connection or no response in time.</summary>
    Retry,
    /// <summary>Loki refused the push itself (other 4xx): retrying cannot help.</summary>
    Rejected,
}
