namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// A test that loads BPF programs into the real kernel: it needs root. Without root
/// it is skipped with that reason, except in CI (CI=true), where it must run and so
/// fails rather than pass unnoticed.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Privileges.IsRoot && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "needs root and BPF (run: sudo make test)";
        }
    }
}

/// <summary>The theory counterpart of <see cref="RootFactAttribute"/>.</summary>
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute()
    {
        if (!Privileges.IsRoot && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "needs root and BPF (run: sudo make test)";
        }
    }
}
