using System.Text;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Events;

/// <summary>--lifecycle in --format text: an exec and an exit are lines as strace shows them, after the prefix every line has.</summary>
public class TextLifecycleEventTests
{
    [Fact]
    public void An_exec_is_execve_and_its_quoted_arguments()
    {
        var argv = Records.ArgvBytes("ls", "-l", "/tmp");

        Assert.Equal("""
            04:18:40.123456 ls[1234/1234] execve ["ls", "-l", "/tmp"]
            """, Format(Records.Exec(captured: (uint)argv.Length, pid: 1234, rootPid: 1234, comm: "ls"), argv));
    }

    [Theory]
    [InlineData(3 << 8, "+++ exited with 3 +++")]
    [InlineData(0, "+++ exited with 0 +++")]
    [InlineData(9, "+++ killed by SIGKILL +++")]
    [InlineData(15, "+++ killed by SIGTERM +++")]
    [InlineData(11 | 0x80, "+++ killed by SIGSEGV (core dumped) +++")]
    [InlineData(6 | 0x80, "+++ killed by SIGABRT (core dumped) +++")]
    [InlineData(31, "+++ killed by SIGSYS +++")]
    [InlineData(34, "+++ killed by SIGRT_2 +++")]
    public void An_exit_is_strace_s_line(int status, string expected)
    {
        Assert.Equal($"04:18:40.123456 make[1234/1240] {expected}", Format(Records.Exit(status, pid: 1234, tid: 1240, rootPid: 1234, comm: "make"), []));
    }

    [Fact]
    public void The_registered_root_is_shown_when_it_is_another_process()
    {
        var argv = Records.ArgvBytes("cc");

        Assert.Equal("""
            04:18:40.123456 cc[1300/1300] root=1200 execve ["cc"]
            """, Format(Records.Exec(captured: (uint)argv.Length, pid: 1300, rootPid: 1200, comm: "cc"), argv));
        Assert.Equal("04:18:40.123456 cc[1300/1300] root=1200 +++ exited with 1 +++",
            Format(Records.Exit(1 << 8, pid: 1300, tid: 1300, rootPid: 1200, comm: "cc"), []));
    }

    [Fact]
    public void A_cgroup_member_shows_its_cgroup_instead_of_a_root()
    {
        var header = Records.Exit(0, pid: 1300, tid: 1300, rootPid: CgroupNames.FirstId, comm: "nginx", flags: WriteEvent.CgroupRootFlag);

        Assert.Equal("04:18:40.123456 nginx[1300/1300] cg=/system.slice/nginx.service +++ exited with 0 +++",
            Format(header, [], "/system.slice/nginx.service"u8));
    }

    [Fact]
    public void Arguments_are_c_escaped_non_utf8_and_empty_ones_included()
    {
        byte[][] args = [[.. "printf"u8], [.. "a \"b\"\n\\"u8], [], [(byte)'c', (byte)'a', (byte)'f', 0xE9], [.. "日本"u8]];
        var argv = args.SelectMany(a => a.Append((byte)0)).ToArray();

        Assert.Equal("""
            04:18:40.123456 ls[1234/1234] execve ["printf", "a \"b\"\n\\", "", "caf\xe9", "日本"]
            """, Format(Records.Exec(captured: (uint)argv.Length, rootPid: 1234), argv));
    }

    [Theory]
    [InlineData(10, """["gcc", "-O2", "ve"...]""")] // cut inside an argument: strace's "..." after the string
    [InlineData(8, """["gcc", "-O2", ...]""")]      // cut after an argument: "..." for the rest
    [InlineData(2, """["gc"...]""")]
    [InlineData(0, "[...]")]
    public void A_capped_argv_ends_with_strace_s_mark_of_what_is_missing(int captured, string expected)
    {
        var whole = Records.ArgvBytes("gcc", "-O2", "version.c");

        Assert.Equal($"04:18:40.123456 ls[1234/1234] execve {expected}",
            Format(Records.Exec(captured: (uint)captured, argvSize: (uint)whole.Length, rootPid: 1234), whole[..captured]));
    }

    [Fact]
    public void An_unreadable_argv_is_marked_capture_failed()
    {
        Assert.Equal("04:18:40.123456 ls[1234/1234] execve [...] <capture failed>",
            Format(Records.Exec(captured: 0, argvSize: 12, rootPid: 1234, flags: WriteEvent.ReadFailedFlag), []));
    }

    [Theory]
    [MemberData(nameof(Records.CaptureSizes), MemberType = typeof(Records))]
    public void The_longest_exec_line_fits_the_longest_line_of_the_capture_size(int capture)
    {
        var header = Records.Exec(captured: (uint)capture, argvSize: uint.MaxValue, pid: uint.MaxValue, rootPid: uint.MaxValue, flags: uint.MaxValue);
        Records.SetComm(ref header.Comm, Enumerable.Repeat((byte)0x01, WriteEvent.CommLength).ToArray());
        var cgroup = Enumerable.Repeat((byte)0x01, CgroupNames.MaxNameBytes).ToArray();

        foreach (var argv in new[] { Enumerable.Repeat((byte)0x01, capture).ToArray(), new byte[capture] })
        {
            var destination = new byte[TextEventFormatter.MaxLength(capture)];

            var length = new TextEventFormatter(TimeZoneInfo.Utc).Format(header, argv, Records.DesignExampleTime, destination, cgroup);

            Assert.Equal((byte)'\n', destination[length]);
            Assert.EndsWith("] <capture failed>", Encoding.UTF8.GetString(destination, 0, length));
        }
    }

    /// <summary>The line at <see cref="Records.DesignExampleTime"/>, times in UTC, checking its newline is there and only there.</summary>
    private static string Format(ProcessEvent header, ReadOnlySpan<byte> argv, ReadOnlySpan<byte> cgroup = default)
    {
        var destination = new byte[TextEventFormatter.MaxLength(argv.Length)];
        var length = new TextEventFormatter(TimeZoneInfo.Utc).Format(header, argv, Records.DesignExampleTime, destination, cgroup);
        Assert.Equal((byte)'\n', destination[length]);
        var line = Encoding.UTF8.GetString(destination, 0, length);
        Assert.DoesNotContain('\n', line);
        return line;
    }
}
