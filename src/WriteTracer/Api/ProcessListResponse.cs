namespace WriteTracer.Api;

/// <summary>The body of GET /pids: every registered process, oldest registration first.</summary>
internal sealed record ProcessListResponse(IReadOnlyList<ProcessResponse> Processes, int Total);
