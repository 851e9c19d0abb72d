using System.Text;
using System.Text.Json;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Events;

/// <summary>--lifecycle in JSON: an exec or exit is a line of its own, "event" first, then what every event carries.</summary>
public class JsonLifecycleEventTests
{
    [Fact]
    public void An_exec_gives_exactly_the_line_of_the_design()
    {
        var argv = Records.ArgvBytes("ls", "-l", "/tmp");

        var line = Format(Records.Exec(captured: (uint)argv.Length, pid: 1234, rootPid: 1200, comm: "ls"), argv);

        Assert.Equal(
            """{"event":"exec","time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1234,"root_pid":1200,"comm":"ls","argv":["ls","-l","/tmp"]}""",
            line);
    }

    [Theory]
    [InlineData(3 << 8, "\"code\":3}")]
    [InlineData(0, "\"code\":0}")]
    [InlineData(255 << 8, "\"code\":255}")]
    [InlineData(9, "\"signal\":9}")]
    [InlineData(11 | 0x80, "\"signal\":11,\"core_dumped\":true}")]
    [InlineData(6 | 0x80, "\"signal\":6,\"core_dumped\":true}")]
    public void An_exit_gives_its_code_or_the_signal_that_killed_it(int status, string tail)
    {
        var line = Format(Records.Exit(status, pid: 1234, tid: 1240, rootPid: 1200, comm: "make"), []);

        Assert.Equal(
            """{"event":"exit","time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1240,"root_pid":1200,"comm":"make",""" + tail,
            line);
    }

    [Fact]
    public void Arguments_are_escaped_and_parse_back_exactly_empty_ones_included()
    {
        string[] args = ["sh", "-c", "printf '%s\\n' \"a b\"\n\tx", "", "日本 🎉", "\u0001\u001f\"\\"];
        var argv = Records.ArgvBytes(args);

        using var json = JsonDocument.Parse(Format(Records.Exec(captured: (uint)argv.Length), argv));

        Assert.Equal(args, json.RootElement.GetProperty("argv").EnumerateArray().Select(a => a.GetString()));
        Assert.False(json.RootElement.TryGetProperty("truncated", out _));
    }

    [Fact]
    public void An_argv_with_invalid_utf8_is_argv_b64_each_argument_decoding_to_its_exact_bytes()
    {
        byte[][] args = [[.. "/bin/echo"u8], [(byte)'c', (byte)'a', (byte)'f', 0xE9], [], [0xFF, 0xFE, 0x01]];
        var argv = args.SelectMany(a => a.Append((byte)0)).ToArray();

        using var json = JsonDocument.Parse(Format(Records.Exec(captured: (uint)argv.Length), argv));

        Assert.False(json.RootElement.TryGetProperty("argv", out _));
        Assert.Equal(args, json.RootElement.GetProperty("argv_b64").EnumerateArray().Select(a => Convert.FromBase64String(a.GetString()!)));
    }

    [Fact]
    public void A_capped_argv_is_marked_truncated_its_last_argument_cut_where_the_capture_ended()
    {
        var whole = Records.ArgvBytes("gcc", "-O2", "version.c");
        var captured = whole[..10]; // "gcc\0-O2\0ve"

        var line = Format(Records.Exec(captured: (uint)captured.Length, argvSize: (uint)whole.Length), captured);

        Assert.EndsWith("""
            "argv":["gcc","-O2","ve"],"truncated":true}
            """, line);
    }

    [Fact]
    public void With_capture_0_the_argv_is_empty_and_marked_truncated()
    {
        Assert.EndsWith("""
            "argv":[],"truncated":true}
            """, Format(Records.Exec(captured: 0, argvSize: 12), []));
    }

    [Fact]
    public void An_unreadable_argv_is_marked_capture_failed()
    {
        Assert.EndsWith("""
            "argv":[],"truncated":true,"capture_failed":true}
            """, Format(Records.Exec(captured: 0, argvSize: 12, flags: WriteEvent.ReadFailedFlag), []));
    }

    [Fact]
    public void A_cgroup_member_s_events_name_its_cgroup_in_place_of_root_pid()
    {
        var argv = Records.ArgvBytes("nginx");
        var cgroup = "/system.slice/nginx.service"u8;

        var exec = Format(Records.Exec(captured: (uint)argv.Length, rootPid: CgroupNames.FirstId, comm: "nginx", flags: WriteEvent.CgroupRootFlag),
            argv, cgroup);
        var exit = Format(Records.Exit(0, rootPid: CgroupNames.FirstId, comm: "nginx", flags: WriteEvent.CgroupRootFlag), [], cgroup);

        Assert.Contains("""
            "pid":1234,"tid":1234,"cgroup":"/system.slice/nginx.service","comm":"nginx","argv":["nginx"]}
            """, exec);
        Assert.EndsWith("""
            "cgroup":"/system.slice/nginx.service","comm":"nginx","code":0}
            """, exit);
        Assert.DoesNotContain("root_pid", exec + exit);
    }

    [Theory]
    [MemberData(nameof(Records.CaptureSizes), MemberType = typeof(Records))]
    public void The_longest_exec_line_fits_the_longest_line_of_the_capture_size(int capture)
    {
        var header = Records.Exec(captured: (uint)capture, argvSize: uint.MaxValue, pid: uint.MaxValue, rootPid: uint.MaxValue,
            flags: uint.MaxValue);
        Records.SetComm(ref header.Comm, Enumerable.Repeat((byte)0x01, WriteEvent.CommLength).ToArray());
        var cgroup = Enumerable.Repeat((byte)0x01, CgroupNames.MaxNameBytes).ToArray();
        var worstArgvs = new[]
        {
            Enumerable.Repeat((byte)0x01, capture).ToArray(), // valid UTF-8, every byte a \u00XX escape
            new byte[capture], // every byte an empty argument: ,""
            Enumerable.Range(0, capture).Select(i => i % 2 == 0 ? (byte)0xFF : (byte)0).ToArray(), // one-byte invalid arguments: ,"/w=="
        };

        foreach (var argv in worstArgvs)
        {
            var destination = new byte[JsonEventFormatter.MaxLength(capture)];

            var length = new JsonEventFormatter().Format(header, argv, Records.DesignExampleTime, destination, cgroup);

            Assert.Equal((byte)'\n', destination[length]);
            using var json = JsonDocument.Parse(destination.AsMemory(0, length));
        }
    }

    private static string Format(ProcessEvent header, ReadOnlySpan<byte> argv, ReadOnlySpan<byte> cgroup = default)
    {
        var destination = new byte[JsonEventFormatter.MaxLength(argv.Length)];
        var length = new JsonEventFormatter().Format(header, argv, Records.DesignExampleTime, destination, cgroup);
        Assert.Equal((byte)'\n', destination[length]);
        var line = Encoding.UTF8.GetString(destination, 0, length);
        Assert.DoesNotContain('\n', line);
        return line;
    }
}
