using System.Text.RegularExpressions;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>The tracer's last line: "captured N writes (B bytes); dropped: kernel K, stdout S, …; unreadable buffers U".</summary>
internal sealed partial record ExitSummary(long Captured, long Bytes, IReadOnlyDictionary<string, long> Dropped)
{
    public static ExitSummary Parse(string stderr)
    {
        var match = Pattern().Match(stderr);
        if (!match.Success)
        {
            throw new InvalidOperationException($"no summary line in the tracer's stderr:\n{stderr}");
        }
        var dropped = match.Groups[3].Value.Split(", ")
            .Select(part => part.Split(' '))
            .ToDictionary(words => words[0], words => long.Parse(words[1]));
        return new ExitSummary(long.Parse(match.Groups[1].Value), long.Parse(match.Groups[2].Value), dropped);
    }

    [GeneratedRegex(@"captured (\d+) writes? \((\d+) bytes?\); dropped: ([^;]*);")]
    private static partial Regex Pattern();
}
