using System.Text.RegularExpressions;
using WriteTracer.Cli;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.Tests.Cli;

/// <summary>
/// The built binary's exit codes and output for what is decided before BPF is touched:
/// help, version and invalid values. No privileges needed; every argument list here
/// fails validation, so nothing is ever traced.
/// </summary>
public partial class ExitCodeTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Above any pid_max: should a binary ever accept one of the bad lists below, it fails to
    /// find the process (exit 1) instead of tracing a real one with the tests' privileges.
    /// </summary>
    private const string NoSuchPid = "2147483647";

    public static TheoryData<string[], string> BadValues => new()
    {
        { [], "nothing to trace" },
        { ["-p", "abc"], "--pid" },
        { ["-p", "0"], "--pid" },
        { ["-p"], "-p" },
        { ["-p", NoSuchPid, "-p"], "--pid" },
        { ["-p", NoSuchPid, "-f", "1,x"], "--file-descriptors" },
        { ["-p", NoSuchPid, "--metrics-port", "70000"], "--metrics-port" },
        { ["-p", NoSuchPid, "-r", "-1"], "--rest-port" },
        { ["-p", NoSuchPid, "-i", "0"], "--tracking-interval" },
        { ["-p", NoSuchPid, "--capture-bytes", "16385"], "--capture-bytes" },
        { ["-p", NoSuchPid, "-l", "ftp://loki"], "--loki-endpoint" },
        { ["-p", NoSuchPid, "--log-level", "loud"], "--log-level" },
        { ["-p", NoSuchPid, "--syscalls", "write,read"], "--syscalls: 'read' is not one of write, writev, pwrite64, pwritev, pwritev2, all" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_exits_2_with_one_line_on_stderr_and_nothing_on_stdout(string[] args, string named)
    {
        var run = Run(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.StderrLines);
        Assert.StartsWith("write-tracer: ", line);
        Assert.Contains(named, line);
    }

    [Theory]
    [InlineData("/nonexistent/command", 127, "no such file")]
    [InlineData("no-such-command-anywhere", 127, "not found in PATH")]
    [InlineData("/etc/passwd", 126, "permission denied")]
    [InlineData("/tmp", 126, "it is a directory")]
    public void A_command_that_cannot_be_run_exits_as_the_shell_would_with_one_line_before_anything_loads(
        string command, int exitCode, string reason)
    {
        // Checked before the privileges are: this unprivileged run would otherwise stop at those.
        var run = Run("--", command, "argument");

        Assert.Equal(exitCode, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal($"write-tracer: cannot run {command}: {reason}", Assert.Single(run.StderrLines));
    }

    [Fact]
    public void Help_exits_0_and_documents_every_option_with_its_default()
    {
        var run = Run("--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.StderrLines);
        var help = OptionHelp(run.Stdout);
        foreach (var option in new CommandLine().Root.Options.Where(o => o.Name is not ("--help" or "--version")))
        {
            var aliases = string.Join(", ", option.Aliases.Order().Append(option.Name));
            Assert.True(help.TryGetValue(aliases, out var text), $"--help does not list {aliases}:\n{run.Stdout}");
            Assert.Matches(DefaultNote(), text);
        }
    }

    [Theory]
    [InlineData("--max-records-fileoutput", "50000")]
    [InlineData("--max-backups", "50")]
    [InlineData("--tracking-interval", "60")]
    [InlineData("--metrics-port", "2112")]
    [InlineData("--rest-port", "0")]
    [InlineData("--capture-bytes", "256")]
    [InlineData("--pid", "none")]
    [InlineData("--file-descriptors", "all")]
    [InlineData("--file-output", "off")]
    [InlineData("--loki-endpoint", "off")]
    [InlineData("--no-stdout", "off")]
    [InlineData("--format", "json")]
    [InlineData("--attach", "raw")]
    [InlineData("--capture-at", "entry")]
    [InlineData("--syscalls", "write")]
    [InlineData("--log-level", "info")]
    public void Help_shows_the_defaults_of_the_design(string option, string value)
    {
        var help = OptionHelp(Run("--help").Stdout);

        var text = Assert.Single(help, entry => entry.Key.Split(", ").Contains(option)).Value;
        Assert.EndsWith($"[default: {value}]", text);
    }

    [Fact]
    public void The_readme_configuration_table_is_the_help_of_every_option()
    {
        var help = OptionHelp(Run("--help").Stdout).Where(o => !o.Key.Contains("--help") && o.Key != "--version").ToList();
        var readme = File.ReadAllLines(Path.Combine(Repository.Root, "README.md"))
            .SkipWhile(l => l != "## Configuration").TakeWhile(l => l != "## Install")
            .Select(l => ConfigurationRow().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["aliases"].Value, m => (Variable: m.Groups["variable"].Value, Default: m.Groups["default"].Value));

        foreach (var (aliases, text) in help)
        {
            Assert.True(readme.TryGetValue(aliases, out var row), $"README's configuration table lacks {aliases}");
            Assert.Contains($"[env: {row.Variable}]", text);
            Assert.EndsWith($"[default: {row.Default}]", text);
        }
        Assert.Equal(help.Count, readme.Count);
    }

    [Fact]
    public void Version_exits_0_and_prints_the_version_and_the_commit_it_was_built_from()
    {
        var run = Run("--version");

        var version = typeof(CommandLine).Assembly.GetName().Version!;
        Assert.Equal(0, run.ExitCode);
        var line = Assert.Single(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // A git checkout (a directory, or a file in a worktree) puts the commit in the version.
        var commit = Path.Exists(Path.Combine(Repository.Root, ".git")) ? @"\+[0-9a-f]{40}" : "";
        Assert.Matches($@"^{version.Major}\.{version.Minor}\.{version.Build}{commit}$", line);
    }

    [Fact]
    public void Help_documents_the_version_option()
    {
        var help = OptionHelp(Run("--help").Stdout);

        Assert.StartsWith("Show the version", help["--version"]);
    }

    /// <summary>The options section of the help: "-a, --aa" → its description, wrapped lines joined.</summary>
    private static Dictionary<string, string> OptionHelp(string stdout)
    {
        var options = new Dictionary<string, string>();
        string? current = null;
        foreach (var line in stdout.Split('\n').SkipWhile(l => !l.StartsWith("Options:", StringComparison.Ordinal)).Skip(1))
        {
            var entry = OptionLine().Match(line);
            if (entry.Success)
            {
                current = entry.Groups["aliases"].Value;
                options[current] = entry.Groups["text"].Value.Trim();
            }
            else if (current is not null && line.Trim().Length > 0)
            {
                options[current] += " " + line.Trim();
            }
        }
        return options;
    }

    private static Result Run(params string[] args) => Run(new Dictionary<string, string>(), args);

    /// <summary>Runs the binary with these variables added to the environment.</summary>
    private static Result Run(Dictionary<string, string> environment, params string[] args)
    {
        var (exitCode, stdout, stderr) = Shell.ExecAsync(Repository.Tracer, args, RunLimit, environment).GetAwaiter().GetResult();
        return new Result(exitCode, stdout, stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private sealed record Result(int ExitCode, string Stdout, string[] StderrLines);

    [GeneratedRegex(@"^  (?<aliases>-[^ <]+(?:, -[^ <]+)*)(?: <[^>]+>)?\s{2,}(?<text>.*)$")]
    private static partial Regex OptionLine();

    /// <summary>A row of README's configuration table: | `-p, --pid <PID>` | `WRITE_TRACER_PID` | none | … |</summary>
    [GeneratedRegex(@"^\| `(?<aliases>-[^ <`]+(?:, -[^ <`]+)*)(?: <[^>]+>)?` \| `(?<variable>[A-Z_]+)` \| (?<default>[^|]+) \| ")]
    private static partial Regex ConfigurationRow();

    [GeneratedRegex(@"\[default: [^\]]+\]$")]
    private static partial Regex DefaultNote();
}
