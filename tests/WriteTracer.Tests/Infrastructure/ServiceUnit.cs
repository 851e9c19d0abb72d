using WriteTracer.Cli;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// write-tracer.service and the environment file `make install` puts beside it, as parsed,
/// and the options the tracer runs with under them.
/// </summary>
internal sealed class ServiceUnit
{
    public const string ServiceSection = "Service";

    public static string UnitPath { get; } = Path.Combine(Repository.Root, "write-tracer.service");

    public static string EnvironmentFilePath { get; } = Path.Combine(Repository.Root, "utilities", "systemd", "write-tracer.env");

    public IniFile Unit { get; } = IniFile.Parse(File.ReadAllText(UnitPath));

    /// <summary>The environment file with every commented-out assignment taken in.</summary>
    public static IniFile UncommentedEnvironmentFile() =>
        IniFile.Parse(string.Join('\n', File.ReadAllLines(EnvironmentFilePath)
            .Select(line => line.StartsWith("#" + EnvironmentOptions.Prefix, StringComparison.Ordinal) ? line[1..] : line)));

    /// <summary>ExecStart= split into the program and its arguments (the unit quotes nothing).</summary>
    public IReadOnlyList<string> ExecStart =>
        Unit.Value(ServiceSection, "ExecStart").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The unit's Environment= assignments, overridden by these in order, as EnvironmentFile= overrides them.</summary>
    public Dictionary<string, string> Environment(params IEnumerable<(string Name, string Value)>[] overrides)
    {
        var environment = new Dictionary<string, string>();
        var assignments = Unit.Values(ServiceSection, "Environment")
            .Select(assignment => assignment.Split('=', 2) is [var name, var value] ? (name, value)
                : throw new FormatException($"Environment={assignment} is not NAME=VALUE"));
        foreach (var (name, value) in overrides.Aggregate(assignments, (all, more) => all.Concat(more)))
        {
            environment[name] = value;
        }
        return environment;
    }

    /// <summary>ExecStart's arguments parsed by the tracer's own parser in this environment; null and the error when rejected.</summary>
    public TracerOptions? Options(Dictionary<string, string> environment, out string? error) =>
        new CommandLine().Parse([.. ExecStart.Skip(1)], out _, out error, environment);
}
