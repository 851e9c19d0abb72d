using System.Text.Json;
using System.Text.RegularExpressions;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>The identity a writer payload carries: "w pid=P tid=T seq=S".</summary>
internal readonly partial record struct WriterLine(int Pid, int Tid, int Seq)
{
    public string Text => $"w pid={Pid} tid={Tid} seq={Seq}\n";

    public static bool TryParse(JsonElement e, out WriterLine line)
    {
        line = default;
        if (!e.TryGetProperty("data", out var data))
        {
            return false;
        }
        var match = Pattern().Match(data.GetString()!);
        if (!match.Success)
        {
            return false;
        }
        line = new WriterLine(int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value), int.Parse(match.Groups[3].Value));
        return true;
    }

    [GeneratedRegex(@"^w pid=(\d+) tid=(\d+) seq=(\d+)\n$")]
    private static partial Regex Pattern();
}
