using System.Collections;
using System.CommandLine;

namespace WriteTracer.Cli;

/// <summary>
/// Every option can also come from an environment variable, WRITE_TRACER_ and the
/// option's long name in capitals (--rest-port → WRITE_TRACER_REST_PORT), which is how
/// the systemd unit's environment file configures the daemon. The command line wins.
/// </summary>
internal static class EnvironmentOptions
{
    public const string Prefix = "WRITE_TRACER_";

    public static string VariableFor(Option option) =>
        Prefix + option.Name.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    /// <summary>Adds "[env: …]" to every option's help.</summary>
    public static void Document(RootCommand root)
    {
        foreach (var option in Configurable(root))
        {
            // Before a written-out "[default: …]", so the default stays last, as the parser prints it.
            var description = option.Description ?? "";
            var defaultAt = description.LastIndexOf(" [default: ", StringComparison.Ordinal);
            var environment = $" [env: {VariableFor(option)}]";
            option.Description = defaultAt < 0 ? description + environment : description.Insert(defaultAt, environment);
        }
    }

    /// <summary>
    /// The arguments with tokens for the variables of options the command line does not
    /// give, placed before any "--". Whether the command line gives an option is the
    /// parser's own answer, so every spelling it accepts counts (-p1234, -qp 1234,
    /// --pid=1234, a response file). Repeatable options take whitespace-separated values;
    /// flags take 1/true/yes or 0/false/no. An empty value counts as not set, as the empty
    /// lines of /etc/default/write-tracer mean. Returns the options that came from the environment.
    /// </summary>
    public static List<string> Apply(RootCommand root, IReadOnlyList<string> args, IDictionary environment,
        out Dictionary<string, string> fromEnvironment, out string? error)
    {
        fromEnvironment = [];
        error = null;
        var commandLine = root.Parse(args);
        // --version and --help answer alone (the parser refuses --version beside any option).
        if (CommandLine.IsInformational(commandLine))
        {
            return [.. args];
        }
        var injected = new List<string>();
        foreach (var option in Configurable(root))
        {
            var variable = VariableFor(option);
            if (environment[variable] is not string value || value.Trim().Length == 0
                || commandLine.GetResult(option) is { Implicit: false })
            {
                continue;
            }
            fromEnvironment[option.Name] = variable;
            if (option.ValueType == typeof(bool))
            {
                if (value.Trim().ToLowerInvariant() is "1" or "true" or "yes")
                {
                    injected.Add(option.Name);
                }
                else if (value.Trim().ToLowerInvariant() is not ("0" or "false" or "no"))
                {
                    error ??= $"{variable}: '{value}' is not one of 1, true, yes, 0, false, no";
                }
                continue;
            }
            var values = option.ValueType.IsArray
                ? value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                : [value];
            // Attached with '=', a value is never read as an option or a response file ("-x", "@x").
            injected.AddRange(values.Select(single => $"{option.Name}={single}"));
        }
        return [.. injected, .. args];
    }

    private static IEnumerable<Option> Configurable(RootCommand root) =>
        root.Options.Where(o => o is not System.CommandLine.Help.HelpOption and not VersionOption);
}
