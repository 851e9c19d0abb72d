using System.Text.RegularExpressions;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// The tracer's last line: "captured N writes (B bytes)[, E execs, X exits]; dropped: kernel K, stdout S, …[; unconfirmed: loki L];
/// unreadable buffers U…" (the execs and exits with --lifecycle).
/// </summary>
internal sealed partial record ExitSummary(long Captured, long Bytes, IReadOnlyDictionary<string, long> Dropped,
    IReadOnlyDictionary<string, long> Unconfirmed, long Execs, long Exits)
{
    public static ExitSummary Parse(string stderr)
    {
        var match = Pattern().Match(stderr);
        if (!match.Success)
        {
            throw new InvalidOperationException($"no summary line in the tracer's stderr:\n{stderr}");
        }
        return new ExitSummary(long.Parse(match.Groups["captured"].Value), long.Parse(match.Groups["bytes"].Value),
            ByStage(match.Groups["dropped"].Value), ByStage(match.Groups["unconfirmed"].Value),
            match.Groups["execs"].Success ? long.Parse(match.Groups["execs"].Value) : 0,
            match.Groups["exits"].Success ? long.Parse(match.Groups["exits"].Value) : 0);
    }

    /// <summary>"kernel 0, stdout 3" by stage; nothing when empty.</summary>
    private static Dictionary<string, long> ByStage(string list) => list.Length == 0 ? [] :
        list.Split(", ").Select(part => part.Split(' ')).ToDictionary(words => words[0], words => long.Parse(words[1]));

    [GeneratedRegex(@"captured (?<captured>\d+) writes? \((?<bytes>\d+) bytes?\)(, (?<execs>\d+) execs?, (?<exits>\d+) exits?)?; " +
        @"dropped: (?<dropped>[^;]*);( unconfirmed: (?<unconfirmed>[^;]*);)?")]
    private static partial Regex Pattern();
}
