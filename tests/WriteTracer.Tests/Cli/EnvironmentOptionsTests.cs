using WriteTracer.Cli;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Cli;

/// <summary>WRITE_TRACER_* variables: the same settings as the flags, the command line first.</summary>
public sealed class EnvironmentOptionsTests
{
    /// <summary>Every option set to something other than its default, once by flag…</summary>
    private static readonly string[] Flags =
    [
        "-p", "10", "-p", "20", "--cgroup", "system.slice/a.service", "--cgroup", "b", "-f", "2,1", "-o", "/var/log/events.jsonl", "-n", "7", "--max-backups", "3",
        "-l", "http://127.0.0.1:3100/loki/api/v1/push", "--loki-label", "env=prod", "--loki-label", "team=a",
        "--loki-tenant", "tenant1", "--loki-root-pid-label", "--loki-queue-events", "5", "--shutdown-timeout", "4", "-i", "0.5", "--metrics-port", "0",
        "--metrics-address", "127.0.0.1", "-r", "8080", "--rest-address", "::1", "--rest-socket", "/run/wt.sock",
        "--api-token-file", "/etc/wt.token", "-q", "--capture-bytes", "100", "--ring-buffer-mb", "16",
        "--max-tracked-processes", "9", "--attach", "fentry", "--capture-at", "exit", "--log-level", "debug",
        "--format", "text", "--resolve-fds", "--lifecycle", "--syscalls", "pwritev2,write", "--state-file", "/var/lib/wt.json", "--rest-socket-mode", "0666", "--file-mode", "0640",
    ];

    /// <summary>… and once by variable.</summary>
    private static readonly Dictionary<string, string> Variables = new()
    {
        ["WRITE_TRACER_PID"] = "10 20",
        ["WRITE_TRACER_CGROUP"] = "system.slice/a.service b",
        ["WRITE_TRACER_FILE_DESCRIPTORS"] = "2,1",
        ["WRITE_TRACER_FILE_OUTPUT"] = "/var/log/events.jsonl",
        ["WRITE_TRACER_MAX_RECORDS_FILEOUTPUT"] = "7",
        ["WRITE_TRACER_MAX_BACKUPS"] = "3",
        ["WRITE_TRACER_LOKI_ENDPOINT"] = "http://127.0.0.1:3100/loki/api/v1/push",
        ["WRITE_TRACER_LOKI_LABEL"] = "env=prod team=a",
        ["WRITE_TRACER_LOKI_TENANT"] = "tenant1",
        ["WRITE_TRACER_LOKI_ROOT_PID_LABEL"] = "yes",
        ["WRITE_TRACER_LOKI_QUEUE_EVENTS"] = "5",
        ["WRITE_TRACER_SHUTDOWN_TIMEOUT"] = "4",
        ["WRITE_TRACER_TRACKING_INTERVAL"] = "0.5",
        ["WRITE_TRACER_METRICS_PORT"] = "0",
        ["WRITE_TRACER_METRICS_ADDRESS"] = "127.0.0.1",
        ["WRITE_TRACER_REST_PORT"] = "8080",
        ["WRITE_TRACER_REST_ADDRESS"] = "::1",
        ["WRITE_TRACER_REST_SOCKET"] = "/run/wt.sock",
        ["WRITE_TRACER_API_TOKEN_FILE"] = "/etc/wt.token",
        ["WRITE_TRACER_NO_STDOUT"] = "yes",
        ["WRITE_TRACER_CAPTURE_BYTES"] = "100",
        ["WRITE_TRACER_RING_BUFFER_MB"] = "16",
        ["WRITE_TRACER_MAX_TRACKED_PROCESSES"] = "9",
        ["WRITE_TRACER_ATTACH"] = "fentry",
        ["WRITE_TRACER_CAPTURE_AT"] = "exit",
        ["WRITE_TRACER_LOG_LEVEL"] = "debug",
        ["WRITE_TRACER_FORMAT"] = "text",
        ["WRITE_TRACER_RESOLVE_FDS"] = "yes",
        ["WRITE_TRACER_LIFECYCLE"] = "true",
        ["WRITE_TRACER_SYSCALLS"] = "pwritev2,write",
        ["WRITE_TRACER_STATE_FILE"] = "/var/lib/wt.json",
        ["WRITE_TRACER_REST_SOCKET_MODE"] = "0666",
        ["WRITE_TRACER_FILE_MODE"] = "0640",
    };

    [Fact]
    public void Every_option_set_by_its_variable_equals_it_set_by_its_flag()
    {
        var byFlags = Parse(Flags, []);
        var byVariables = Parse([], Variables);

        Assert.Equal(OptionValues.Of(byFlags), OptionValues.Of(byVariables));
    }

    [Fact]
    public void The_comparison_above_covers_every_option_and_each_differs_from_its_default()
    {
        var variables = new CommandLine().Root.Options
            .Where(o => o.Name is not ("--help" or "--version"))
            .Select(EnvironmentOptions.VariableFor);
        Assert.Equal(variables.Order(), Variables.Keys.Order());

        var defaults = OptionValues.Of(Parse(["-r", "1"], []));
        var set = OptionValues.Of(Parse([], Variables));
        Assert.All(set.Where(p => p.Key is not ("Command" or "AcceptsRegistrations")), property =>
            Assert.True(property.Value != defaults[property.Key], $"{property.Key} is {property.Value}, its default"));
    }

    [Fact]
    public void The_command_line_wins_over_the_environment()
    {
        var options = Parse(["-r", "2", "--no-stdout"], new() { ["WRITE_TRACER_REST_PORT"] = "1", ["WRITE_TRACER_NO_STDOUT"] = "no" });

        Assert.Equal(2, options.RestPort);
        Assert.True(options.NoStdout);
    }

    /// <summary>
    /// Every spelling the parser accepts, on its own and bundled with a flag; "@ …" stands for a
    /// response file holding the rest. Given any of them, the option's variable changes nothing.
    /// </summary>
    [Theory]
    [InlineData("WRITE_TRACER_PID", "5", "-p 1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "-p1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "-p=1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "-p:1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "--pid 1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "--pid=1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "--pid:1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "-qp 1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "-qp1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "-p 1234 -p 99", "Pids", "[1234, 99]")]
    [InlineData("WRITE_TRACER_PID", "5", "@ -p 1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "@ --pid=1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_PID", "5", "@ -qp1234", "Pids", "[1234]")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "-r 8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "-r8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "-r=8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "--rest-port 8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "--rest-port=8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "--rest-port:8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "-qr 8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "-qr8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_REST_PORT", "9000", "@ -r8080", "RestPort", "8080")]
    [InlineData("WRITE_TRACER_NO_STDOUT", "no", "-q -p 1", "NoStdout", "True")]
    [InlineData("WRITE_TRACER_NO_STDOUT", "no", "--no-stdout -p 1", "NoStdout", "True")]
    [InlineData("WRITE_TRACER_NO_STDOUT", "no", "-qp 1", "NoStdout", "True")]
    [InlineData("WRITE_TRACER_NO_STDOUT", "no", "@ -qp1", "NoStdout", "True")]
    [InlineData("WRITE_TRACER_FILE_DESCRIPTORS", "7", "-p 1 -f1,2", "FileDescriptors", "[1, 2]")]
    [InlineData("WRITE_TRACER_FILE_DESCRIPTORS", "7", "-qf 1,2 -p 1", "FileDescriptors", "[1, 2]")]
    [InlineData("WRITE_TRACER_FILE_DESCRIPTORS", "7", "-p 1 --file-descriptors=1,2", "FileDescriptors", "[1, 2]")]
    [InlineData("WRITE_TRACER_MAX_RECORDS_FILEOUTPUT", "9", "-p 1 -n7", "MaxRecordsPerFile", "7")]
    [InlineData("WRITE_TRACER_MAX_RECORDS_FILEOUTPUT", "9", "-p 1 -qn7", "MaxRecordsPerFile", "7")]
    [InlineData("WRITE_TRACER_CAPTURE_BYTES", "9", "-p 1 --capture-bytes=7", "CaptureBytes", "7")]
    public void An_option_in_any_spelling_wins_over_its_variable(string variable, string value, string spelling,
        string property, string expected)
    {
        using var directory = new TempDirectory("write-tracer-args-");
        var args = spelling.Split(' ');
        if (args[0] == "@")
        {
            var responseFile = directory.File("args");
            File.WriteAllLines(responseFile, args[1..]);
            args = ["@" + responseFile];
        }

        var withVariable = Parse(args, new() { [variable] = value });

        Assert.Equal(expected, OptionValues.Of(withVariable)[property]);
        Assert.Equal(OptionValues.Of(Parse(args, [])), OptionValues.Of(withVariable));
    }

    [Fact]
    public void A_variable_value_that_looks_like_an_option_or_a_response_file_is_a_value()
    {
        var options = Parse(["-p", "1"], new() { ["WRITE_TRACER_FILE_OUTPUT"] = "@-q", ["WRITE_TRACER_LOKI_TENANT"] = "-q",
            ["WRITE_TRACER_LOKI_ENDPOINT"] = "http://127.0.0.1:3100/loki/api/v1/push" });

        Assert.EndsWith("/@-q", Path.GetFullPath(options.FileOutput!));
        Assert.Equal("-q", options.LokiTenant);
        Assert.False(options.NoStdout);
    }

    [Fact]
    public void An_empty_variable_is_not_set()
    {
        var empty = Variables.Keys.Where(name => name != "WRITE_TRACER_REST_PORT").ToDictionary(name => name, _ => " ");
        empty["WRITE_TRACER_REST_PORT"] = "1";

        Assert.Equal(OptionValues.Of(Parse(["-r", "1"], [])), OptionValues.Of(Parse([], empty)));
    }

    [Theory]
    [InlineData("WRITE_TRACER_METRICS_PORT", "x", "WRITE_TRACER_METRICS_PORT (--metrics-port): 'x' is not a port")]
    [InlineData("WRITE_TRACER_NO_STDOUT", "maybe", "WRITE_TRACER_NO_STDOUT: 'maybe' is not one of")]
    public void A_bad_value_names_the_variable(string name, string value, string error)
    {
        new CommandLine().Parse(["-r", "1"], out _, out var message, new Dictionary<string, string> { [name] = value });

        Assert.StartsWith(error, message);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("--help")]
    public void Version_and_help_ignore_the_environment(string request)
    {
        new CommandLine().Parse([request], out var result, out _, Variables);

        Assert.True(CommandLine.IsInformational(result), string.Join("; ", result.Errors.Select(e => e.Message)));
        Assert.Equal([request], result.Tokens.Select(t => t.Value));
    }

    private static TracerOptions Parse(string[] args, Dictionary<string, string> environment)
    {
        var options = new CommandLine().Parse(args, out _, out var error, environment);
        Assert.True(options is not null, error);
        return options;
    }
}
