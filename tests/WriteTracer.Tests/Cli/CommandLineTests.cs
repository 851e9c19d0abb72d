using Serilog.Events;
using WriteTracer.Bpf;
using WriteTracer.Cli;

namespace WriteTracer.Tests.Cli;

public class CommandLineTests
{
    [Fact]
    public void Defaults_are_those_of_the_design()
    {
        var options = Valid("-p", "1");

        Assert.Equal([1], options.Pids);
        Assert.Empty(options.FileDescriptors);
        Assert.Null(options.FileOutput);
        Assert.Equal(50000, options.MaxRecordsPerFile);
        Assert.Equal(50, options.MaxBackups);
        Assert.Null(options.LokiEndpoint);
        Assert.Equal(TimeSpan.FromSeconds(60), options.TrackingInterval);
        Assert.Equal(2112, options.MetricsPort);
        Assert.Equal(0, options.RestPort);
        Assert.False(options.NoStdout);
        Assert.Equal(256, options.CaptureBytes);
        Assert.False(options.ResolveFds);
        Assert.False(options.Lifecycle);
        Assert.Equal(TracerOptions.Defaults.RingBufferMegabytes, options.RingBufferMegabytes);
        Assert.Equal(TracerOptions.Defaults.MaxTrackedProcesses, options.MaxTrackedProcesses);
        Assert.Equal(LogEventLevel.Information, options.LogLevel);
        Assert.Equal([WriteSyscall.Write], options.Syscalls);
        Assert.Empty(options.Command);
    }

    [Theory]
    [InlineData("write", new[] { "write" })]
    [InlineData("writev", new[] { "writev" })]
    [InlineData("pwritev2,write,writev,write", new[] { "write", "writev", "pwritev2" })]
    [InlineData("all", new[] { "write", "writev", "pwrite64", "pwritev", "pwritev2" })]
    [InlineData("pwrite64,all", new[] { "write", "writev", "pwrite64", "pwritev", "pwritev2" })]
    public void Syscalls_are_a_comma_separated_set_in_kernel_order(string list, string[] expected)
    {
        Assert.Equal(expected, Valid("-p", "1", "--syscalls", list).Syscalls.Select(s => s.Name()));
    }

    [Theory]
    [InlineData("read")]
    [InlineData("Write")]
    [InlineData("write,")]
    [InlineData("write, writev")]
    [InlineData("")]
    public void An_unknown_syscall_names_the_valid_ones(string list)
    {
        var error = Invalid("-p", "1", "--syscalls", list);

        Assert.StartsWith("--syscalls: '", error);
        Assert.EndsWith("' is not one of write, writev, pwrite64, pwritev, pwritev2, all", error);
    }

    [Fact]
    public void Every_option_takes_its_valid_values()
    {
        var options = Valid(
            "--pid", "10", "-f", "2,1", "-o", "/tmp/events.json", "-n", "7", "--max-backups", "0",
            "-l", "http://127.0.0.1:3100/loki/api/v1/push", "-i", "0.5", "--metrics-port", "0", "-r", "8080",
            "-q", "--capture-bytes", "16384", "--resolve-fds", "--lifecycle", "--ring-buffer-mb", "64", "--max-tracked-processes", "1", "--log-level", "debug");

        Assert.Equal([10], options.Pids);
        Assert.Equal([1, 2], options.FileDescriptors);
        Assert.Equal("/tmp/events.json", options.FileOutput);
        Assert.Equal(7, options.MaxRecordsPerFile);
        Assert.Equal(0, options.MaxBackups);
        Assert.Equal(new Uri("http://127.0.0.1:3100/loki/api/v1/push"), options.LokiEndpoint);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.TrackingInterval);
        Assert.Equal(0, options.MetricsPort);
        Assert.Equal(8080, options.RestPort);
        Assert.True(options.NoStdout);
        Assert.Equal(16384, options.CaptureBytes);
        Assert.True(options.ResolveFds);
        Assert.True(options.Lifecycle);
        Assert.Equal(64, options.RingBufferMegabytes);
        Assert.Equal(1, options.MaxTrackedProcesses);
        Assert.Equal(LogEventLevel.Debug, options.LogLevel);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("no", false)]
    public void Resolving_fds_can_come_from_the_environment(string value, bool expected)
    {
        var options = new CommandLine().Parse(["-p", "1"], out _, out var error,
            new System.Collections.Hashtable { ["WRITE_TRACER_RESOLVE_FDS"] = value });

        Assert.Null(error);
        Assert.Equal(expected, options!.ResolveFds);
    }

    [Fact]
    public void Pid_is_repeatable()
    {
        Assert.Equal([1, 2, 3], Valid("-p", "1", "-p", "2", "--pid", "3").Pids);
    }

    [Fact]
    public void Values_may_follow_an_equals_sign()
    {
        var options = Valid("--pid=5", "--capture-bytes=0", "-f=1,2");

        Assert.Equal([5], options.Pids);
        Assert.Equal(0, options.CaptureBytes);
        Assert.Equal([1, 2], options.FileDescriptors);
    }

    [Theory]
    [InlineData("1,2", new[] { 1, 2 })]
    [InlineData("2", new[] { 2 })]
    [InlineData("0", new[] { 0 })]
    [InlineData("2,1,2,1", new[] { 1, 2 })]
    [InlineData(" 1 , 2 ", new[] { 1, 2 })]
    [InlineData("1048576", new[] { 1048576 })]
    public void File_descriptor_lists_are_parsed_without_duplicates(string list, int[] expected)
    {
        Assert.Equal(expected, Valid("-p", "1", "-f", list).FileDescriptors);
    }

    [Fact]
    public void File_descriptor_lists_from_repeated_options_are_merged()
    {
        Assert.Equal([1, 2, 5], Valid("-p", "1", "-f", "2", "--file-descriptors", "5,1").FileDescriptors);
    }

    [Theory]
    [InlineData("-i", "0.001", 1)]
    [InlineData("-i", "86400", 86_400_000)]
    [InlineData("--tracking-interval", "2.5", 2500)]
    public void Tracking_interval_takes_positive_seconds(string option, string value, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Valid("-p", "1", option, value).TrackingInterval);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65535")]
    public void Ports_take_0_to_65535(string port)
    {
        var options = Valid("-p", "1", "--metrics-port", port, "-r", port);

        Assert.Equal(int.Parse(port), options.MetricsPort);
        Assert.Equal(int.Parse(port), options.RestPort);
    }

    [Theory]
    [InlineData("debug", LogEventLevel.Debug)]
    [InlineData("info", LogEventLevel.Information)]
    [InlineData("warning", LogEventLevel.Warning)]
    [InlineData("ERROR", LogEventLevel.Error)]
    public void Log_levels_are_named(string name, LogEventLevel level)
    {
        Assert.Equal(level, Valid("-p", "1", "--log-level", name).LogLevel);
    }

    [Fact]
    public void The_words_after_the_separator_are_the_command_with_its_own_options()
    {
        var options = Valid("-p", "1", "--capture-bytes", "0", "--", "python3", "-p", "2", "--capture-bytes", "x", "-- and more");

        Assert.Equal([1], options.Pids);
        Assert.Equal(0, options.CaptureBytes);
        Assert.Equal(["python3", "-p", "2", "--capture-bytes", "x", "-- and more"], options.Command);
    }

    [Fact]
    public void A_command_alone_is_enough_to_trace()
    {
        var options = Valid("--", "sh", "-c", "echo hi");

        Assert.Empty(options.Pids);
        Assert.Equal(["sh", "-c", "echo hi"], options.Command);
    }

    [Fact]
    public void A_rest_port_alone_is_enough_to_trace()
    {
        Assert.Equal(9000, Valid("-r", "9000").RestPort);
    }

    [Theory]
    [InlineData()]
    [InlineData("-q")]
    [InlineData("-i", "3", "--metrics-port", "0")]
    [InlineData("--")]
    [InlineData("-r", "0")]
    public void Nothing_to_trace_is_an_error(params string[] args)
    {
        var error = Invalid(args);

        Assert.StartsWith("nothing to trace", error);
        Assert.Contains("-p PID", error);
        Assert.Contains("--rest-port", error);
    }

    public static TheoryData<string[], string, string> InvalidValues => new()
    {
        { ["-p", "abc"], "--pid", "'abc'" },
        { ["-p", "0"], "--pid", "'0'" },
        { ["-p", "-5"], "--pid", "'-5'" },
        { ["-p", "1.5"], "--pid", "'1.5'" },
        { ["-p", ""], "--pid", "''" },
        { ["-p", "99999999999"], "--pid", "'99999999999'" },
        { ["-p", "1", "-p", "x"], "--pid", "'x'" },
        { ["-p", "1", "-f", "a"], "--file-descriptors", "'a'" },
        { ["-p", "1", "-f", "1,,2"], "--file-descriptors", "'1,,2'" },
        { ["-p", "1", "-f", "1,"], "--file-descriptors", "'1,'" },
        { ["-p", "1", "-f", "-1"], "--file-descriptors", "'-1'" },
        { ["-p", "1", "-f", "1;2"], "--file-descriptors", "'1;2'" },
        { ["-p", "1", "-f", "1048577"], "--file-descriptors", "'1048577'" },
        { ["-p", "1", "-f", ""], "--file-descriptors", "''" },
        { ["-p", "1", "-o", ""], "--file-output", "empty" },
        { ["-p", "1", "-n", "0"], "--max-records-fileoutput", "'0'" },
        { ["-p", "1", "-n", "-3"], "--max-records-fileoutput", "'-3'" },
        { ["-p", "1", "-n", "many"], "--max-records-fileoutput", "'many'" },
        { ["-p", "1", "--max-backups", "-1"], "--max-backups", "'-1'" },
        { ["-p", "1", "-l", "ftp://loki/push"], "--loki-endpoint", "'ftp://loki/push'" },
        { ["-p", "1", "-l", "localhost:3100"], "--loki-endpoint", "'localhost:3100'" },
        { ["-p", "1", "-l", "/loki/api/v1/push"], "--loki-endpoint", "'/loki/api/v1/push'" },
        { ["-p", "1", "-i", "0"], "--tracking-interval", "'0'" },
        { ["-p", "1", "-i", "-1"], "--tracking-interval", "'-1'" },
        { ["-p", "1", "-i", "soon"], "--tracking-interval", "'soon'" },
        { ["-p", "1", "-i", "NaN"], "--tracking-interval", "'NaN'" },
        { ["-p", "1", "-i", "Infinity"], "--tracking-interval", "'Infinity'" },
        { ["-p", "1", "-i", "86401"], "--tracking-interval", "'86401'" },
        { ["-p", "1", "--metrics-port", "-1"], "--metrics-port", "'-1'" },
        { ["-p", "1", "--metrics-port", "65536"], "--metrics-port", "'65536'" },
        { ["-p", "1", "--metrics-port", "http"], "--metrics-port", "'http'" },
        { ["-p", "1", "-r", "65536"], "--rest-port", "'65536'" },
        { ["-p", "1", "-r", "-1"], "--rest-port", "'-1'" },
        { ["-p", "1", "--capture-bytes", "16385"], "--capture-bytes", "'16385'" },
        { ["-p", "1", "--capture-bytes", "-1"], "--capture-bytes", "'-1'" },
        { ["-p", "1", "--capture-bytes", "1k"], "--capture-bytes", "'1k'" },
        { ["-p", "1", "--ring-buffer-mb", "3"], "--ring-buffer-mb", "'3'" },
        { ["-p", "1", "--ring-buffer-mb", "0"], "--ring-buffer-mb", "'0'" },
        { ["-p", "1", "--ring-buffer-mb", "2048"], "--ring-buffer-mb", "'2048'" },
        { ["-p", "1", "--max-tracked-processes", "0"], "--max-tracked-processes", "'0'" },
        { ["-p", "1", "--log-level", "verbose"], "--log-level", "'verbose'" },
        { ["-p", "1", "--attach", "kprobe"], "--attach", "'kprobe'" },
    };

    [Theory]
    [InlineData("tracepoint", "Tracepoint")]
    [InlineData("raw", "Raw")]
    [InlineData("fentry", "Fentry")]
    public void Each_attach_point_is_a_choice(string value, string expected)
    {
        Assert.Equal(Enum.Parse<WriteTracer.Bpf.WriteHook>(expected), Valid("-p", "1", "--attach", value).Attach);
        Assert.Equal(WriteTracer.Bpf.WriteHook.Raw, Valid("-p", "1").Attach);
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void An_invalid_value_is_one_line_naming_the_option_and_the_value(string[] args, string option, string value)
    {
        var error = Invalid(args);

        Assert.StartsWith(option + ": ", error);
        Assert.Contains(value, error);
    }

    [Theory]
    [InlineData("-p", "-p")]
    [InlineData("-p", "-p", "1", "-p")]
    [InlineData("--pid", "-p", "1", "--pid")]
    [InlineData("-f", "-p", "1", "-f")]
    [InlineData("-f", "-p", "1", "-f", "1", "-f")]
    [InlineData("-o", "-p", "1", "-o")]
    [InlineData("-n", "-p", "1", "-n")]
    [InlineData("-n", "-p", "1", "-n", "5", "-n")]
    [InlineData("--capture-bytes", "-p", "1", "--capture-bytes", "5", "--capture-bytes")]
    [InlineData("--max-backups", "-p", "1", "--max-backups")]
    [InlineData("-l", "-p", "1", "-l")]
    [InlineData("-i", "-p", "1", "-i")]
    [InlineData("--metrics-port", "-p", "1", "--metrics-port")]
    [InlineData("-r", "-p", "1", "-r")]
    [InlineData("--capture-bytes", "-p", "1", "--capture-bytes")]
    [InlineData("--ring-buffer-mb", "-p", "1", "--ring-buffer-mb")]
    [InlineData("--max-tracked-processes", "-p", "1", "--max-tracked-processes")]
    [InlineData("--log-level", "-p", "1", "--log-level")]
    public void An_option_without_its_value_is_one_line_naming_the_option(string option, params string[] args)
    {
        var error = Invalid(args);

        var named = new CommandLine().Root.Options.Single(o => o.Name == option || o.Aliases.Contains(option));
        Assert.Contains(named.Aliases.Append(named.Name), name => error.Contains(name, StringComparison.Ordinal));
    }

    [Fact]
    public void Cgroups_are_repeatable_kept_as_given_and_enough_to_trace()
    {
        var options = Valid("--cgroup", "system.slice/nginx.service", "--cgroup", "/sys/fs/cgroup/kubepods.slice");

        Assert.Equal(["system.slice/nginx.service", "/sys/fs/cgroup/kubepods.slice"], options.Cgroups);
        Assert.Empty(options.Pids);
    }

    [Fact]
    public void An_empty_cgroup_path_is_refused()
    {
        Assert.Equal("--cgroup: the path is empty", Invalid("--cgroup", ""));
    }

    private static TracerOptions Valid(params string[] args)
    {
        var options = new CommandLine().Parse(args, out var result, out var error);
        Assert.True(options is not null, $"rejected: {error}");
        Assert.Null(error);
        Assert.False(CommandLine.IsInformational(result));
        return options;
    }

    private static string Invalid(params string[] args)
    {
        var options = new CommandLine().Parse(args, out var result, out var error);
        Assert.Null(options);
        Assert.False(CommandLine.IsInformational(result));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain('\r', error);
        return error;
    }
}
