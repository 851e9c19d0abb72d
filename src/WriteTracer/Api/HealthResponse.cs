namespace WriteTracer.Api;

/// <summary>The body of a healthy GET /healthz.</summary>
internal sealed record HealthResponse(string Status);
