using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>
/// The capabilities write-tracer.service grants (AmbientCapabilities=) suffice and each is needed:
/// the tracer runs as an unprivileged user holding exactly those, as systemd starts it, and traces
/// a process of another user (root) exactly; without any one of them it stops with one line naming it.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ServiceCapabilitiesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly string[] UnitCapabilities = ReadUnitCapabilities();

    [RootFact]
    public async Task The_units_capabilities_suffice_to_trace_a_root_process_exactly()
    {
        const int threads = 2, lines = 200, children = 1;
        using var writer = WriterProcess.StartHeld("-t", $"{threads}", "-n", $"{lines}", "-c", $"{children}", "-g");
        // Metrics off through the environment: an option would go before setpriv's own.
        await using var tracer = TracerProcess.Start("setpriv", [.. Unprivileged(UnitCapabilities), Repository.Tracer,
            "-p", $"{writer.Pid}", "-f", "1"], new Dictionary<string, string> { ["WRITE_TRACER_METRICS_PORT"] = "0" });
        await tracer.WaitUntilTracingAsync();
        var status = File.ReadAllLines($"/proc/{tracer.Pid}/status");
        Assert.Contains("Uid:\t65534\t65534\t65534\t65534", status);
        Assert.Contains("NoNewPrivs:\t1", status);
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));
        // Without a REST API the tracer stops by itself once its writers have exited.
        Assert.Equal(0, await tracer.WaitForExitAsync(Timeout));

        WriterLine.AssertEveryLineOnce(tracer.Events, threads + children + 1, lines);
        Assert.Contains("dropped: kernel 0, stdout 0", tracer.Stderr);
    }

    /// <summary>
    /// The unit's tracer cannot see which process of another user holds a TCP connection (reading
    /// its fds needs ptrace access): /pids/self over TCP says to use the Unix socket, where the kernel
    /// names the caller, and there the same request succeeds.
    /// </summary>
    [RootFact]
    public async Task Over_TCP_the_units_tracer_cannot_name_another_users_caller_and_points_to_the_socket()
    {
        var directory = Directory.CreateTempSubdirectory("wt-unit-api-");
        try
        {
            File.SetUnixFileMode(directory.FullName, (UnixFileMode)0x1ff); // the tracer, as nobody, creates its socket here
            var socket = Path.Combine(directory.FullName, "api.sock");
            var port = FreePort.Get();
            await using var tracer = TracerProcess.Start("setpriv", [.. Unprivileged(UnitCapabilities), Repository.Tracer,
                "--rest-port", $"{port}", "--rest-socket", socket, "--rest-socket-mode", "0666"],
                new Dictionary<string, string> { ["WRITE_TRACER_METRICS_PORT"] = "0" });
            await tracer.WaitUntilTracingAsync();

            var (overTcp, refusal) = await ApiClient.AsRootAsync($"{port}", "POST", "/pids/self");
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, overTcp);
            Assert.Equal("the tracer cannot tell which process holds this TCP connection; register through the Unix socket (--rest-socket)",
                refusal.GetProperty("error").GetString());
            var (overSocket, registered) = await ApiClient.AsRootAsync(socket, "POST", "/pids/self");
            Assert.Equal(System.Net.HttpStatusCode.Created, overSocket);
            Assert.Contains("(python3)", registered.GetProperty("message").GetString());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [RootTheory]
    [InlineData("CAP_BPF")]
    [InlineData("CAP_PERFMON")]
    [InlineData("CAP_DAC_READ_SEARCH")]
    public async Task Without_one_of_them_the_tracer_stops_naming_it(string capability)
    {
        Assert.Contains(capability, UnitCapabilities);
        using var writer = WriterProcess.StartHeld("-n", "1");

        var (exitCode, stdout, stderr) = await Shell.ExecAsync("setpriv",
            [.. Unprivileged(UnitCapabilities.Where(c => c != capability)), Repository.Tracer, "-p", $"{writer.Pid}", "--metrics-port", "0"],
            Timeout);

        Assert.Equal(1, exitCode);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("write-tracer: ", line);
        Assert.Contains(capability, line);
    }

    /// <summary>setpriv's options for the user nobody with exactly these capabilities, as AmbientCapabilities= and NoNewPrivileges= set them.</summary>
    private static string[] Unprivileged(IEnumerable<string> capabilities)
    {
        var set = string.Join("", capabilities.Select(c => ",+" + c["CAP_".Length..].ToLowerInvariant()));
        return ["--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
            $"--inh-caps=-all{set}", $"--ambient-caps=-all{set}", $"--bounding-set=-all{set}"];
    }

    private static string[] ReadUnitCapabilities() =>
        File.ReadLines(Path.Combine(Repository.Root, "write-tracer.service"))
            .Single(line => line.StartsWith("AmbientCapabilities=", StringComparison.Ordinal))
            ["AmbientCapabilities=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
