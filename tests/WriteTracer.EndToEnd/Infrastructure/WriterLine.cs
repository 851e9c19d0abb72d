using System.Text.Json;
using System.Text.RegularExpressions;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>The identity a writer payload carries: "w pid=P tid=T seq=S".</summary>
internal readonly partial record struct WriterLine(int Pid, int Tid, int Seq)
{
    public string Text => $"w pid={Pid} tid={Tid} seq={Seq}\n";

    /// <summary>The payload of writer -s size: the head, "abc…" padding to size-1 bytes, then '\n'.</summary>
    public byte[] Payload(int size)
    {
        var head = System.Text.Encoding.ASCII.GetBytes($"w pid={Pid} tid={Tid} seq={Seq}");
        var payload = new byte[size];
        for (var i = 0; i < size - 1; i++)
        {
            payload[i] = i < head.Length ? head[i] : (byte)('a' + (i - head.Length) % 26);
        }
        payload[size - 1] = (byte)'\n';
        return payload;
    }

    /// <summary>The payload of writer -b: the bytes ff fe 00 80 instead of "w ".</summary>
    public byte[] BinaryPayload() =>
        [0xff, 0xfe, 0x00, 0x80, .. System.Text.Encoding.ASCII.GetBytes($"pid={Pid} tid={Tid} seq={Seq}\n")];

    /// <summary>Parses the identity out of any writer payload, text, padded or binary.</summary>
    public static bool TryParseBytes(ReadOnlySpan<byte> payload, out WriterLine line)
    {
        line = default;
        var match = IdentityPattern().Match(System.Text.Encoding.Latin1.GetString(payload));
        if (!match.Success)
        {
            return false;
        }
        line = new WriterLine(int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value), int.Parse(match.Groups[3].Value));
        return true;
    }

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

    /// <summary>
    /// Asserts the events are exactly the text lines of this many writers (threads, children,
    /// grandchildren) writing this many lines each: every line once, with its own pid and tid.
    /// </summary>
    public static void AssertEveryLineOnce(IEnumerable<JsonElement> events, int writers, int lines)
    {
        var seen = events.Select(e =>
        {
            Assert.True(TryParse(e, out var line), $"not a writer line: {e}");
            Assert.Equal((line.Pid, line.Tid), (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32()));
            return line;
        }).ToList();
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(writers, seen.Select(l => l.Tid).Distinct().Count());
        Assert.All(seen.GroupBy(l => l.Tid), writes => Assert.Equal(Enumerable.Range(0, lines), writes.Select(l => l.Seq).Order()));
    }

    [GeneratedRegex(@"^w pid=(\d+) tid=(\d+) seq=(\d+)\n$")]
    private static partial Regex Pattern();

    [GeneratedRegex(@"pid=(\d+) tid=(\d+) seq=(\d+)")]
    private static partial Regex IdentityPattern();
}
