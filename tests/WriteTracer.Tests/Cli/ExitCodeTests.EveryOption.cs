using WriteTracer.Cli;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.Tests.Cli;

/// <summary>
/// Every option's parsing in the built binary (compiled ahead of time, unlike these tests): a bad
/// value given as the option and as its variable exits 2 with one line naming what was wrong.
/// </summary>
public partial class ExitCodeTests
{
    /// <summary>A value each option refuses while parsing; null for a switch, which takes none.</summary>
    private static readonly Dictionary<string, string?> RefusedValues = new()
    {
        ["--pid"] = "abc",
        ["--cgroup"] = "",
        ["--file-descriptors"] = "1,x",
        ["--file-output"] = "",
        ["--max-records-fileoutput"] = "0",
        ["--max-backups"] = "-1",
        ["--loki-endpoint"] = "ftp://loki",
        ["--loki-label"] = "novalue",
        ["--loki-tenant"] = "a/b",
        ["--loki-queue-events"] = "0",
        ["--loki-root-pid-label"] = null,
        ["--shutdown-timeout"] = "-1",
        ["--tracking-interval"] = "0",
        ["--metrics-port"] = "70000",
        ["--metrics-address"] = "nowhere",
        ["--rest-port"] = "-1",
        ["--rest-address"] = "nowhere",
        ["--rest-socket"] = "/" + new string('s', 107),
        ["--api-token-file"] = "",
        ["--state-file"] = "",
        ["--rest-socket-mode"] = "999",
        ["--file-mode"] = "abc",
        ["--no-stdout"] = null,
        ["--format"] = "xml",
        ["--capture-bytes"] = "16385",
        ["--resolve-fds"] = null,
        ["--lifecycle"] = null,
        ["--syscalls"] = "write,read",
        ["--ring-buffer-mb"] = "3",
        ["--max-tracked-processes"] = "0",
        ["--attach"] = "kprobe",
        ["--capture-at"] = "middle",
        ["--log-level"] = "loud",
    };

    public static TheoryData<string> ConfigurableOptions => [.. RefusedValues.Keys];

    /// <summary>
    /// The options a variable can set to a refused value: not those refusing only an empty value,
    /// since an empty variable counts as not set.
    /// </summary>
    public static TheoryData<string> VariableOptions => [.. RefusedValues.Where(o => o.Value is not "").Select(o => o.Key)];

    [Fact]
    public void Every_option_has_a_refused_value_here()
    {
        var options = new CommandLine().Root.Options.Where(o => o.Name is not ("--help" or "--version")).Select(o => o.Name);

        Assert.Equal(options.Order(), RefusedValues.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(ConfigurableOptions))]
    public void A_refused_value_of_each_option_exits_2_naming_it(string option)
    {
        if (RefusedValues[option] is { } value)
        {
            AssertRefused(Run("-p", NoSuchPid, option, value), option);
        }
        else
        {
            // A switch takes no value: one after it is a stray argument.
            AssertRefused(Run("-p", NoSuchPid, option, "yes"), "unrecognized argument 'yes'");
        }
    }

    /// <summary>
    /// No other argument: should the binary accept the variable's value, it has nothing to trace
    /// (exit 2 too, but a line that does not name the variable).
    /// </summary>
    [Theory]
    [MemberData(nameof(VariableOptions))]
    public void A_refused_value_of_each_variable_exits_2_naming_it(string option)
    {
        var variable = EnvironmentOptions.Prefix + option.TrimStart('-').Replace('-', '_').ToUpperInvariant();
        // A switch's variable takes one of 1, true, yes, 0, false, no.
        var value = RefusedValues[option] ?? "maybe";

        AssertRefused(Run(new Dictionary<string, string> { [variable] = value }), variable);
    }

    private static void AssertRefused(Result run, string named)
    {
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.StderrLines);
        Assert.StartsWith("write-tracer: ", line);
        Assert.Contains(named, line);
    }
}
