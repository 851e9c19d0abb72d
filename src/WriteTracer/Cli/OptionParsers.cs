using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using WriteTracer.Bpf;
using WriteTracer.Sinks.Loki;

namespace WriteTracer.Cli;

/// <summary>
/// The options' value parsers and the factories for options of a common shape. A bad value
/// adds one error naming the option ("--pid: '0' is not a positive process id").
/// </summary>
internal static class OptionParsers
{
    /// <summary>An option taking a value, checked by parser when given.</summary>
    public static Option<T> ValueOption<T>(string name, string? alias, string description, string helpName,
        Func<ArgumentResult, T>? parser = null)
    {
        var option = new Option<T>(name, Aliases(alias)) { Description = description, HelpName = helpName };
        if (parser is not null)
        {
            option.CustomParser = parser;
        }
        return option;
    }

    /// <summary>An option given once per value (-p 1 -p 2), never with several values after one name.</summary>
    public static Option<T[]> RepeatableOption<T>(string name, string? alias, string description, string helpName,
        Func<ArgumentResult, T[]>? parser = null)
    {
        var option = ValueOption(name, alias, description, helpName, parser);
        option.AllowMultipleArgumentsPerToken = false;
        return option;
    }

    public static Option<bool> FlagOption(string name, string? alias, string description) =>
        new(name, Aliases(alias)) { Description = description };

    /// <summary>An option taking a value, checked by parser, with a default --help shows.</summary>
    public static Option<T> DefaultedOption<T>(string name, string? alias, string description, string helpName,
        T defaultValue, Func<ArgumentResult, T> parser)
    {
        var option = ValueOption(name, alias, description, helpName, parser);
        option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>An integer option from min to max with a default, whose error says what is expected.</summary>
    public static Option<int> IntOption(string name, string? alias, string description, string helpName,
        int defaultValue, int min, int max, string expected) =>
        DefaultedOption(name, alias, description, helpName, defaultValue, r => ParseInt(r, Single(r), min, max, expected));

    public static Option<IPAddress> AddressOption(string name, string description, IPAddress defaultValue) =>
        DefaultedOption(name, null, description, "ADDRESS", defaultValue, ParseAddress);

    /// <summary>
    /// A choice among words, matched case-insensitively. It has no parser default, whose help would
    /// show the enum member ("Json") instead of the word typed ("json"): the description writes it out.
    /// </summary>
    public static Option<T> ChoiceOption<T>(string name, string description, string helpName, params (string Name, T Value)[] choices) =>
        ValueOption(name, null, description, helpName, r => ParseChoice(r, choices));

    private static string[] Aliases(string? alias) => alias is null ? [] : [alias];

    /// <summary>The option's value: its last token, as the parser keeps the last of a repeated option.</summary>
    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    private static string OptionName(ArgumentResult result) =>
        (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;

    public static int ParseInt(ArgumentResult result, string token, int min, int max, string expected)
    {
        if (int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            && value >= min && value <= max)
        {
            return value;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not {expected}");
        return 0;
    }

    public static IPAddress ParseAddress(ArgumentResult result)
    {
        var token = Single(result);
        if (IPAddress.TryParse(token, out var address))
        {
            return address;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not an IPv4 or IPv6 address");
        return IPAddress.Loopback;
    }

    public static string? ParseSocketPath(ArgumentResult result)
    {
        var token = Single(result);
        // Kestrel takes absolute paths only; sun_path holds 108 bytes, the terminating NUL included.
        var path = token.Length > 0 ? Path.GetFullPath(token) : token;
        if (path.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(path) > 107)
        {
            result.AddError($"{OptionName(result)}: '{token}' is not a socket path of 1 to 107 bytes (made absolute)");
            return null;
        }
        return path;
    }

    /// <summary>An octal permission mode with the owner's read and write, nothing executable or special.</summary>
    public static UnixFileMode ParseMode(ArgumentResult result)
    {
        const int ownerReadWrite = 0b110_000_000, readWriteOnly = 0b110_110_110;
        var token = Single(result);
        try
        {
            var mode = token.Length is > 0 and <= 4 ? Convert.ToInt32(token, 8) : -1;
            if ((mode & ownerReadWrite) == ownerReadWrite && (mode & ~readWriteOnly) == 0)
            {
                return (UnixFileMode)mode;
            }
        }
        catch (FormatException)
        {
        }
        result.AddError($"{OptionName(result)}: '{token}' is not a mode from 0600 to 0666 (octal, with the owner's read and write, no execute bits)");
        return TracerOptions.Defaults.OwnerOnly;
    }

    public static int[] ParseFdList(ArgumentResult result)
    {
        var fds = new SortedSet<int>();
        foreach (var token in result.Tokens)
        {
            foreach (var part in token.Value.Split(','))
            {
                if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd > 1_048_576)
                {
                    result.AddError($"{OptionName(result)}: '{token.Value}' is not a comma-separated list of file descriptors (0 or more)");
                    return [];
                }
                fds.Add(fd);
            }
        }
        if (fds.Count > 1024)
        {
            result.AddError($"{OptionName(result)}: at most 1024 file descriptors can be filtered");
            return [];
        }
        return [.. fds];
    }

    public static WriteSyscall[] ParseSyscalls(ArgumentResult result)
    {
        var syscalls = new SortedSet<WriteSyscall>();
        foreach (var name in Single(result).Split(','))
        {
            if (name == "all")
            {
                syscalls.UnionWith(WriteSyscalls.All);
            }
            else if (WriteSyscalls.TryParse(name, out var syscall))
            {
                syscalls.Add(syscall);
            }
            else
            {
                result.AddError($"{OptionName(result)}: '{name}' is not one of {string.Join(", ", WriteSyscalls.All.Select(s => s.Name()))}, all");
                return [];
            }
        }
        return [.. syscalls];
    }

    public static double ParseInterval(ArgumentResult result)
    {
        var token = Single(result);
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0 && seconds <= 86400 && double.IsFinite(seconds))
        {
            return seconds;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not a number of seconds greater than 0 (at most 86400)");
        return 0;
    }

    public static Uri? ParseLokiUrl(ArgumentResult result)
    {
        var token = Single(result);
        if (Uri.TryCreate(token, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0)
        {
            return uri;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not an http:// or https:// URL");
        return null;
    }

    public static KeyValuePair<string, string>[] ParseLokiLabels(ArgumentResult result)
    {
        var labels = new List<KeyValuePair<string, string>>();
        foreach (var token in result.Tokens)
        {
            var equals = token.Value.IndexOf('=');
            if (equals < 0)
            {
                result.AddError($"{OptionName(result)}: '{token.Value}' is not NAME=VALUE");
                return [];
            }
            var (name, value) = (token.Value[..equals], token.Value[(equals + 1)..]);
            var error = LokiPushClient.LabelError(name, value)
                ?? (labels.Any(l => l.Key == name) ? $"the label '{name}' is given twice" : null);
            if (error is not null)
            {
                result.AddError($"{OptionName(result)}: {error}");
                return [];
            }
            labels.Add(new(name, value));
        }
        if (labels.Count > LokiPushClient.MaxExtraLabels)
        {
            result.AddError($"{OptionName(result)}: at most {LokiPushClient.MaxExtraLabels} labels (Loki allows {LokiPushClient.MaxLabels} per stream, the tracer sets {LokiPushClient.TracerLabels.Count})");
            return [];
        }
        return [.. labels];
    }

    public static string? ParseLokiTenant(ArgumentResult result)
    {
        var token = Single(result);
        if (LokiPushClient.TenantError(token) is { } error)
        {
            result.AddError($"{OptionName(result)}: {error}");
            return null;
        }
        return token;
    }

    public static int ParseRingBufferSize(ArgumentResult result)
    {
        var megabytes = ParseInt(result, Single(result), 1, 1024, "a size in MiB from 1 to 1024");
        if (megabytes != 0 && !int.IsPow2(megabytes))
        {
            result.AddError($"{OptionName(result)}: '{megabytes}' is not a power of two");
        }
        return megabytes;
    }

    private static T ParseChoice<T>(ArgumentResult result, params (string Name, T Value)[] choices)
    {
        var token = Single(result);
        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, token, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        result.AddError($"{OptionName(result)}: '{token}' is not one of {string.Join(", ", choices.Select(c => c.Name))}");
        return default!;
    }
}
