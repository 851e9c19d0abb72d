namespace WriteTracer.Api;

/// <summary>The body of every error response: one specific sentence.</summary>
internal sealed record ErrorResponse(string Error);
