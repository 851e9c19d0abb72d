using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>One call of the write family as strace printed it.</summary>
/// <param name="Bytes">The buffer, or the vector calls' buffers concatenated; null when strace printed an address (unreadable).</param>
/// <param name="Truncated">strace cut a string at -s (its "..."): Bytes is only the start.</param>
/// <param name="Offset">The position of pwrite64, pwritev and pwritev2; null for the others.</param>
/// <param name="Iovcnt">The number of buffers of the vector calls; null for the others.</param>
/// <param name="Result">What the call returned (-1 with <paramref name="Errno"/> on failure); null when strace never saw it return.</param>
internal sealed record StraceCall(int Pid, string Syscall, int Fd, ulong Count, long? Offset, int? Iovcnt,
    byte[]? Bytes, bool Truncated, long? Result, string? Errno);

/// <summary>
/// Parses the output of <c>strace -f -e trace=write,writev,pwrite64,pwritev,pwritev2</c> (with -o
/// FILE or on stderr, -xx or not): complete lines, calls split by another thread into
/// "&lt;unfinished ...&gt;" and "&lt;... NAME resumed&gt;", pid prefixes with or without brackets.
/// Exit and signal lines are skipped; any other line is a format error, so nothing is lost unseen.
/// </summary>
internal static partial class StraceLog
{
    public static IReadOnlyList<StraceCall> Parse(string output)
    {
        var calls = new List<StraceCall>();
        var unfinished = new Dictionary<int, int>(); // pid → index in calls of its call awaiting its result
        foreach (var rawLine in output.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            var prefix = Prefix().Match(line);
            var pid = prefix.Groups["pid"].Success ? int.Parse(prefix.Groups["pid"].Value, CultureInfo.InvariantCulture) : 0;
            var rest = line[prefix.Length..];
            if (rest.StartsWith("+++ ", StringComparison.Ordinal) || rest.StartsWith("--- ", StringComparison.Ordinal))
            {
                continue;
            }
            var resumed = Resumed().Match(rest);
            if (resumed.Success)
            {
                if (!unfinished.Remove(pid, out var index))
                {
                    throw new FormatException($"a call resumed that never started: {line}");
                }
                var (result, errno) = ParseResult(resumed.Groups["result"].Value, line);
                calls[index] = calls[index] with { Result = result, Errno = errno };
                continue;
            }
            var reader = new Reader(rest, line);
            var name = reader.Identifier();
            reader.Expect('(');
            var arguments = reader.Arguments();
            var call = Decode(pid, name, arguments, line);
            if (reader.TryUnfinished())
            {
                unfinished[pid] = calls.Count;
                calls.Add(call);
                continue;
            }
            reader.Expect(')');
            var (value, error) = ParseResult(reader.Remainder(), line);
            calls.Add(call with { Result = value, Errno = error });
        }
        if (unfinished.Count > 0)
        {
            throw new FormatException($"calls never resumed, of pids {string.Join(", ", unfinished.Keys)}");
        }
        return calls;
    }

    private static StraceCall Decode(int pid, string name, IReadOnlyList<object> args, string line)
    {
        long Number(int i) => args.Count > i && args[i] is long n ? n : throw new FormatException($"argument {i + 1} of {name} is not a number: {line}");
        var fd = (int)Number(0);
        switch (name)
        {
            case "write" or "pwrite64":
            {
                var (bytes, truncated) = args[1] is StraceString s ? (s.Bytes, s.Truncated) : ((byte[]?)null, false);
                return new StraceCall(pid, name, fd, (ulong)Number(2), name == "pwrite64" ? Number(3) : null, null, bytes, truncated, null, null);
            }
            case "writev" or "pwritev" or "pwritev2":
            {
                var iov = args[1] as List<object> ?? throw new FormatException($"the iovec array of {name} was not printed: {line}");
                ulong count = 0;
                var bytes = new List<byte>();
                var readable = true;
                var truncated = false;
                foreach (var element in iov)
                {
                    var entry = element as Dictionary<string, object> ?? throw new FormatException($"the iovec array was cut (-s too small?): {line}");
                    count += (ulong)(long)entry["iov_len"];
                    if (entry["iov_base"] is StraceString s)
                    {
                        bytes.AddRange(s.Bytes);
                        truncated |= s.Truncated;
                    }
                    else
                    {
                        readable = false;
                    }
                }
                return new StraceCall(pid, name, fd, count, name == "writev" ? null : Number(3), (int)Number(2),
                    readable ? [.. bytes] : null, truncated, null, null);
            }
            default:
                throw new FormatException($"not a call of the write family: {line}");
        }
    }

    private static (long? Result, string? Errno) ParseResult(string text, string line)
    {
        var match = ResultPattern().Match(text);
        if (!match.Success)
        {
            throw new FormatException($"no result: {line}");
        }
        if (match.Groups["unknown"].Success)
        {
            return (null, null); // "= ?": the process exited inside the call
        }
        var value = long.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        return (value, match.Groups["errno"].Success ? match.Groups["errno"].Value : null);
    }

    /// <summary>A string argument: its bytes, and whether strace cut it ("..." after the quote).</summary>
    private sealed record StraceString(byte[] Bytes, bool Truncated);

    /// <summary>
    /// A reader of one line's arguments: numbers (long), strings (<see cref="StraceString"/>),
    /// arrays (List&lt;object&gt;), structs (Dictionary&lt;string, object&gt;), and words
    /// (flags, NULL, addresses, "...") as strings.
    /// </summary>
    private ref struct Reader(string text, string line)
    {
        private int _position;

        public string Identifier()
        {
            var start = _position;
            while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] == '_'))
            {
                _position++;
            }
            return _position > start ? text[start.._position] : throw Error("a name");
        }

        public void Expect(char c)
        {
            SkipSpaces();
            if (_position >= text.Length || text[_position] != c)
            {
                throw Error($"'{c}'");
            }
            _position++;
        }

        /// <summary>The comma-separated values up to the closing parenthesis or "&lt;unfinished ...&gt;".</summary>
        public List<object> Arguments()
        {
            var values = new List<object>();
            while (true)
            {
                SkipSpaces();
                if (AtEnd(')') || AtUnfinished())
                {
                    return values;
                }
                values.Add(Value());
                SkipSpaces();
                if (!AtEnd(','))
                {
                    return values;
                }
                _position++;
            }
        }

        public bool TryUnfinished()
        {
            SkipSpaces();
            if (!AtUnfinished())
            {
                return false;
            }
            _position = text.Length;
            return true;
        }

        public readonly string Remainder() => text[_position..];

        private readonly bool AtUnfinished() => text.AsSpan(_position).StartsWith("<unfinished ...>");

        private readonly bool AtEnd(char c) => _position < text.Length && text[_position] == c;

        private object Value()
        {
            SkipSpaces();
            if (_position >= text.Length)
            {
                throw Error("a value");
            }
            switch (text[_position])
            {
                case '"':
                    return String();
                case '[':
                    return Items('[', ']', named: false).Select(item => item.Value).ToList();
                case '{':
                    return Items('{', '}', named: true).ToDictionary(item => item.Name!, item => item.Value);
                default:
                    var start = _position;
                    while (_position < text.Length && text[_position] is not (',' or ')' or ']' or '}' or ' '))
                    {
                        _position++;
                    }
                    var word = text[start.._position];
                    return long.TryParse(word, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : word;
            }
        }

        /// <summary>An array's values, or with names a struct's fields (name=value), up to the closing bracket.</summary>
        private List<(string? Name, object Value)> Items(char open, char close, bool named)
        {
            Expect(open);
            var items = new List<(string?, object)>();
            SkipSpaces();
            while (!AtEnd(close))
            {
                string? name = null;
                if (named)
                {
                    name = Identifier();
                    Expect('=');
                }
                items.Add((name, Value()));
                SkipSpaces();
                if (AtEnd(','))
                {
                    _position++;
                }
                SkipSpaces();
            }
            _position++;
            return items;
        }

        /// <summary>A C string as strace escapes it: \xNN, \NNN (octal), \n, \t, \v, \f, \r, \", \\.</summary>
        private StraceString String()
        {
            Expect('"');
            var bytes = new List<byte>();
            while (true)
            {
                if (_position >= text.Length)
                {
                    throw Error("the closing quote");
                }
                var c = text[_position++];
                if (c == '"')
                {
                    break;
                }
                if (c != '\\')
                {
                    bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
                    continue;
                }
                var escape = text[_position++];
                switch (escape)
                {
                    case 'x':
                        bytes.Add(byte.Parse(text.AsSpan(_position, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        _position += 2;
                        break;
                    case >= '0' and <= '7':
                        var end = _position - 1;
                        while (end < text.Length && end < _position + 2 && text[end] is >= '0' and <= '7')
                        {
                            end++;
                        }
                        bytes.Add(Convert.ToByte(text[(_position - 1)..end], 8));
                        _position = end;
                        break;
                    default:
                        bytes.Add(escape switch
                        {
                            'n' => (byte)'\n',
                            't' => (byte)'\t',
                            'v' => (byte)'\v',
                            'f' => (byte)'\f',
                            'r' => (byte)'\r',
                            '"' => (byte)'"',
                            '\\' => (byte)'\\',
                            _ => throw Error($"a known escape, not \\{escape}"),
                        });
                        break;
                }
            }
            var truncated = text.AsSpan(_position).StartsWith("...");
            if (truncated)
            {
                _position += 3;
            }
            return new StraceString([.. bytes], truncated);
        }

        private void SkipSpaces()
        {
            while (_position < text.Length && text[_position] == ' ')
            {
                _position++;
            }
        }

        private readonly FormatException Error(string expected) =>
            new($"expected {expected} at column {_position + 1}: {line}");
    }

    /// <summary>"1234 " (with -o and -f) or "[pid 1234] " (on stderr with -f); none for a single process.</summary>
    [GeneratedRegex(@"^(?:\[pid\s+(?<pid>\d+)\]\s+|(?<pid>\d+)\s+)?")]
    private static partial Regex Prefix();

    [GeneratedRegex(@"^<\.\.\. \w+ resumed>.*?\)\s*(?<result>=.*)$")]
    private static partial Regex Resumed();

    [GeneratedRegex(@"^\s*=\s*(?:(?<unknown>\?)|(?<value>-?\d+)(?:\s+(?<errno>E[A-Z0-9]+))?)")]
    private static partial Regex ResultPattern();
}
