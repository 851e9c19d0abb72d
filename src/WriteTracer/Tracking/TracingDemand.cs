namespace WriteTracer.Tracking;

/// <summary>
/// The write hooks are attached while any registry has something registered (pids,
/// cgroups) and detached when none has: each registry states its own demand.
/// </summary>
internal sealed class TracingDemand(Action<bool> setTracing)
{
    private readonly Lock _lock = new();
    private readonly HashSet<object> _demanding = [];

    /// <summary>A registry's switch: true while it has something registered.</summary>
    public Action<bool> Register()
    {
        var registry = new object();
        return wanted =>
        {
            lock (_lock)
            {
                if (wanted)
                {
                    _demanding.Add(registry);
                }
                else
                {
                    _demanding.Remove(registry);
                }
                setTracing(_demanding.Count > 0);
            }
        };
    }
}
