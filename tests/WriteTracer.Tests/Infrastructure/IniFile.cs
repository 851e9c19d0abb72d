namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// A systemd unit or environment file, read the way systemd reads what these files use:
/// [Section] headers, KEY=VALUE lines (a key may repeat), comment lines starting with '#'
/// or ';', blank lines. Entries before the first header belong to the section "".
/// Any other line is an error naming its number, so a file that parses here has no stray text.
/// </summary>
internal sealed class IniFile
{
    private IniFile(List<string> sections, List<(string Section, string Key, string Value)> entries, List<string> comments)
    {
        Sections = sections;
        Entries = entries;
        Comments = comments;
    }

    /// <summary>The section names in the order they appear.</summary>
    public IReadOnlyList<string> Sections { get; }

    public IReadOnlyList<(string Section, string Key, string Value)> Entries { get; }

    /// <summary>The text of every comment line, without its '#' or ';'.</summary>
    public IReadOnlyList<string> Comments { get; }

    public static IniFile Parse(string text)
    {
        var sections = new List<string>();
        var entries = new List<(string, string, string)>();
        var comments = new List<string>();
        var section = "";
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            if (line[0] is '#' or ';')
            {
                comments.Add(line[1..]);
            }
            else if (line[0] == '[' && line[^1] == ']')
            {
                section = line[1..^1];
                sections.Add(section);
            }
            else if (line.IndexOf('=') is > 0 and var equals)
            {
                entries.Add((section, line[..equals].Trim(), line[(equals + 1)..].Trim()));
            }
            else
            {
                throw new FormatException($"line {number} is neither a [section], KEY=VALUE nor a comment: {raw}");
            }
        }
        return new IniFile(sections, entries, comments);
    }

    /// <summary>Every value of the key in the section, in order.</summary>
    public IReadOnlyList<string> Values(string section, string key) =>
        [.. Entries.Where(e => e.Section == section && e.Key == key).Select(e => e.Value)];

    /// <summary>The value of a key set exactly once in the section.</summary>
    public string Value(string section, string key) =>
        Values(section, key) is [var value] ? value : throw new InvalidOperationException(
            $"[{section}] sets {key} {Values(section, key).Count} times, not once");
}
