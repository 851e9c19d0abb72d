namespace WriteTracer.Tests.Infrastructure;

/// <summary>Waiting for another thread's work to show, with a generous limit as a failure guard only.</summary>
internal static class Poll
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public static void Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"never happened: {what}");
            Thread.Sleep(10);
        }
    }
}
