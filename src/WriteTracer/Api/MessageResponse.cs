namespace WriteTracer.Api;

/// <summary>The body of a successful DELETE /pids/{pid}.</summary>
internal sealed record MessageResponse(string Message);
