using System.Net;
using WriteTracer.EndToEnd.Infrastructure;
using WriteTracer.Tests.Infrastructure;
using static WriteTracer.Tests.Infrastructure.ServiceUnit;

namespace WriteTracer.Tests.Service;

/// <summary>
/// write-tracer.service: it parses, the tracer accepts what it starts with, it keeps the
/// privileges and the hardening its comments justify, and systemd finds nothing to report in it.
/// systemd does not run here (nor in CI), so nothing starts the unit.
/// </summary>
public sealed class ServiceUnitTests
{
    private readonly ServiceUnit _service = new();

    private IniFile Unit => _service.Unit;

    [Fact]
    public void Has_a_unit_a_service_and_an_install_section()
    {
        Assert.Equal(["Unit", "Service", "Install"], Unit.Sections);
        Assert.Equal("multi-user.target", Unit.Value("Install", "WantedBy"));
    }

    [Fact]
    public void Starts_the_installed_tracer_as_a_daemon_serving_the_rest_api_on_loopback()
    {
        var options = _service.Options(_service.Environment(), out var error);

        Assert.True(options is not null, $"the tracer rejects the unit's configuration: {error}");
        Assert.Equal("/usr/local/bin/write-tracer", _service.ExecStart[0]);
        Assert.Equal(9092, options.RestPort);
        Assert.Equal(IPAddress.Loopback, options.RestAddress);
        Assert.Equal(2112, options.MetricsPort);
        Assert.Empty(options.Pids);
        Assert.Empty(options.Command);
        Assert.True(options.NoStdout);
        Assert.Equal("/var/log/write-tracer/events.jsonl", options.FileOutput);
    }

    [Fact]
    public void The_environment_file_configures_it_and_may_be_absent()
    {
        Assert.Equal("-/etc/default/write-tracer", Unit.Value(ServiceSection, "EnvironmentFile"));
        // Options on ExecStart would win over the file's variables, and so could not be changed there.
        Assert.Equal(["/usr/local/bin/write-tracer"], _service.ExecStart);
    }

    [Fact]
    public void Writes_only_to_its_own_log_and_runtime_directories()
    {
        Assert.Equal("write-tracer", Unit.Value(ServiceSection, "LogsDirectory"));
        Assert.Equal("write-tracer", Unit.Value(ServiceSection, "RuntimeDirectory"));
        Assert.Equal("strict", Unit.Value(ServiceSection, "ProtectSystem"));
        Assert.Empty(Unit.Values(ServiceSection, "ReadWritePaths"));
    }

    [Fact]
    public void Runs_unprivileged_with_exactly_the_capabilities_its_comments_justify()
    {
        string[] needed = ["CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH"];

        Assert.Equal("yes", Unit.Value(ServiceSection, "DynamicUser"));
        Assert.Equal(needed, Unit.Value(ServiceSection, "CapabilityBoundingSet").Split(' '));
        Assert.Equal(needed, Unit.Value(ServiceSection, "AmbientCapabilities").Split(' '));
        Assert.All(needed, capability =>
            Assert.Contains(Unit.Comments, comment => comment.TrimStart().StartsWith(capability + " ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Type", "exec")]
    [InlineData("NoNewPrivileges", "yes")]
    [InlineData("ProtectHome", "yes")]
    [InlineData("PrivateTmp", "yes")]
    [InlineData("PrivateDevices", "yes")]
    [InlineData("ProtectKernelTunables", "yes")]
    [InlineData("ProtectKernelModules", "yes")]
    [InlineData("ProtectControlGroups", "yes")]
    [InlineData("RestrictNamespaces", "yes")]
    [InlineData("MemoryDenyWriteExecute", "yes")] // Native AOT: nothing compiled at run time (e2e: MemoryDenyWriteExecuteTests)
    [InlineData("LimitMEMLOCK", "infinity")]
    [InlineData("KillSignal", "SIGTERM")]
    [InlineData("Restart", "on-failure")]
    public void Is_hardened_and_restarts_on_failure(string key, string value)
    {
        Assert.Equal(value, Unit.Value(ServiceSection, key));
    }

    [Theory]
    [InlineData("ProtectProc")] // invisible: the tracer would not see the processes it is asked to trace
    [InlineData("ProcSubset")] // pid: hides /proc/sys/kernel/pid_max
    [InlineData("ExecStop")] // KillSignal's SIGTERM is the graceful stop
    public void Leaves_out_what_would_break_the_tracer(string key)
    {
        Assert.Empty(Unit.Values(ServiceSection, key));
    }

    [Fact]
    public void Gives_the_tracer_its_shutdown_timeout_and_a_margin_before_killing_it()
    {
        var timeoutStop = int.Parse(Unit.Value(ServiceSection, "TimeoutStopSec"));
        var shutdownTimeout = Unit.Values(ServiceSection, "Environment").Select(e => e.Split('=', 2))
            .Where(e => e[0] == "WRITE_TRACER_SHUTDOWN_TIMEOUT").Select(e => int.Parse(e[1]))
            .DefaultIfEmpty(WriteTracer.Cli.TracerOptions.Defaults.ShutdownTimeoutSeconds).Last();
        Assert.InRange(timeoutStop, shutdownTimeout + 5, shutdownTimeout + 30);
    }

    [SystemdAnalyzeFact]
    public async Task Systemd_finds_nothing_to_report_in_it()
    {
        Assert.Equal("", await VerifyAsync(File.ReadAllText(UnitPath)));
    }

    /// <summary>Proves the check above can fail: systemd ignores these with a warning and exit code 0.</summary>
    [SystemdAnalyzeTheory]
    [InlineData("ProtectSystem=strict", "ProtectSystem=stric")]
    [InlineData("DynamicUser=yes", "DynamicUsr=yes")]
    [InlineData("[Service]", "[Servic]")]
    public async Task Systemd_reports_a_broken_copy(string setting, string broken)
    {
        var text = File.ReadAllText(UnitPath);
        Assert.Contains(setting, text);

        Assert.NotEqual("", await VerifyAsync(text.Replace(setting, broken)));
    }

    /// <summary>Verifies the unit text with ExecStart pointing at the built tracer, which verify requires to exist.</summary>
    private static async Task<string> VerifyAsync(string unitText)
    {
        using var directory = new TempDirectory("write-tracer-unit-");
        var unit = directory.File("write-tracer.service");
        File.WriteAllText(unit, unitText.Replace("ExecStart=/usr/local/bin/write-tracer", $"ExecStart={Repository.Tracer}"));
        return await SystemdAnalyze.VerifyAsync(unit);
    }
}
