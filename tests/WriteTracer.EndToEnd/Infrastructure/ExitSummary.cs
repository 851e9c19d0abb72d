using System.Text.RegularExpressions;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// The tracer's last line: "captured N writes (B bytes); dropped: kernel K, stdout S, …[; unconfirmed: loki L]; unreadable buffers U…".
/// </summary>
internal sealed partial record ExitSummary(long Captured, long Bytes, IReadOnlyDictionary<string, long> Dropped,
    IReadOnlyDictionary<string, long> Unconfirmed)
{
    public static ExitSummary Parse(string stderr)
    {
        var match = Pattern().Match(stderr);
        if (!match.Success)
        {
            throw new InvalidOperationException($"no summary line in the tracer's stderr:\n{stderr}");
        }
        return new ExitSummary(long.Parse(match.Groups[1].Value), long.Parse(match.Groups[2].Value),
            ByStage(match.Groups[3].Value), ByStage(match.Groups[5].Value));
    }

    /// <summary>"kernel 0, stdout 3" by stage; nothing when empty.</summary>
    private static Dictionary<string, long> ByStage(string list) => list.Length == 0 ? [] :
        list.Split(", ").Select(part => part.Split(' ')).ToDictionary(words => words[0], words => long.Parse(words[1]));

    [GeneratedRegex(@"captured (\d+) writes? \((\d+) bytes?\); dropped: ([^;]*);( unconfirmed: ([^;]*);)?")]
    private static partial Regex Pattern();
}
