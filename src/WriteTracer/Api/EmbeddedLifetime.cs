namespace WriteTracer.Api;

/// <summary>
/// The web host runs inside the tracer's own run, which owns SIGINT/SIGTERM and stops
/// the API in its shutdown order; the host's default console lifetime would react to
/// the signals on its own.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
