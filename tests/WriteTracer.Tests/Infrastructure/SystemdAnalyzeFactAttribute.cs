namespace WriteTracer.Tests.Infrastructure;

/// <summary>A test that runs systemd-analyze: skipped, saying so, where systemd is not installed.</summary>
public sealed class SystemdAnalyzeFactAttribute : FactAttribute
{
    public SystemdAnalyzeFactAttribute()
    {
        if (SystemdAnalyze.Program is null)
        {
            Skip = SystemdAnalyze.Missing;
        }
    }
}

/// <summary>The theory counterpart of <see cref="SystemdAnalyzeFactAttribute"/>.</summary>
public sealed class SystemdAnalyzeTheoryAttribute : TheoryAttribute
{
    public SystemdAnalyzeTheoryAttribute()
    {
        if (SystemdAnalyze.Program is null)
        {
            Skip = SystemdAnalyze.Missing;
        }
    }
}
