using System.Text;
using System.Text.Json;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Tracking;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Events;

public class JsonEventFormatterTests
{
    [Fact]
    public void A_known_event_gives_exactly_the_line_of_the_design()
    {
        var line = Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1200, comm: "python3", fd: 1, count: 6, captured: 6), "hello\n"u8);

        Assert.Equal(
            """{"time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1236,"root_pid":1200,"comm":"python3","fd":1,"count":6,"data":"hello\n"}""",
            line);
    }

    [Fact]
    public void A_write_larger_than_its_capture_is_marked_truncated()
    {
        var line = Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1200, comm: "python3", fd: 1, count: 13, captured: 6), "hello\n"u8);

        Assert.Equal(
            """{"time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1236,"root_pid":1200,"comm":"python3","fd":1,"count":13,"data":"hello\n","truncated":true}""",
            line);
    }

    [Fact]
    public void With_more_than_write_traced_every_event_names_its_syscall_before_the_fd()
    {
        var line = Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1200, comm: "python3", fd: 1, count: 6, captured: 6), "hello\n"u8,
            nameSyscalls: true);

        Assert.Equal(
            """{"time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1236,"root_pid":1200,"comm":"python3","syscall":"write","fd":1,"count":6,"data":"hello\n"}""",
            line);
    }

    [Fact]
    public void A_vector_call_carries_iovcnt_after_the_count()
    {
        var line = Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1200, comm: "node", fd: 1, count: 3, captured: 3,
            syscall: WriteSyscall.Writev, iovcnt: 2), "ab\n"u8, nameSyscalls: true);

        Assert.Equal(
            """{"time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1236,"root_pid":1200,"comm":"node","syscall":"writev","fd":1,"count":3,"iovcnt":2,"data":"ab\n"}""",
            line);
    }

    [Theory]
    [InlineData("pwrite64", 0, "\"count\":3,\"offset\":4096,\"data\":\"pw\\n\"}")]
    [InlineData("pwritev", 2, "\"count\":3,\"iovcnt\":2,\"offset\":4096,\"data\":\"pw\\n\"}")]
    public void A_positioned_call_carries_its_offset(string syscall, ushort iovcnt, string tail)
    {
        var line = Format(Records.Header(fd: 3, count: 3, captured: 3, syscall: Records.Syscall(syscall), iovcnt: iovcnt, offset: 4096), "pw\n"u8,
            nameSyscalls: true);

        Assert.Contains($"\"syscall\":\"{syscall}\",\"fd\":3,", line);
        Assert.EndsWith(tail, line);
    }

    [Fact]
    public void Pwritev2_at_the_current_position_has_offset_minus_one_and_a_result_after_it()
    {
        var header = Records.Header(fd: 3, count: 4, captured: 4, flags: WriteEvent.HasResultFlag,
            syscall: WriteSyscall.Pwritev2, iovcnt: 3, offset: -1);
        header.Result = 4;

        using var json = JsonDocument.Parse(Format(header, "xyz\n"u8, nameSyscalls: true));

        var root = json.RootElement;
        Assert.Equal(["time", "pid", "tid", "root_pid", "comm", "syscall", "fd", "count", "iovcnt", "offset", "ret", "data"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("pwritev2", root.GetProperty("syscall").GetString());
        Assert.Equal(3, root.GetProperty("iovcnt").GetInt32());
        Assert.Equal(-1, root.GetProperty("offset").GetInt64());
        Assert.Equal(4, root.GetProperty("ret").GetInt64());
    }

    [Fact]
    public void With_write_alone_traced_no_event_names_its_syscall()
    {
        using var json = JsonDocument.Parse(Format(Records.Header(count: 1, captured: 1), "a"u8));

        Assert.False(json.RootElement.TryGetProperty("syscall", out _));
        Assert.False(json.RootElement.TryGetProperty("iovcnt", out _));
        Assert.False(json.RootElement.TryGetProperty("offset", out _));
    }

    [Fact]
    public void An_fd_path_comes_right_after_the_fd()
    {
        var line = Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1200, comm: "python3", fd: 3, count: 6, captured: 6), "hello\n"u8,
            "/var/log/app.log"u8);

        Assert.Equal(
            """{"time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1236,"root_pid":1200,"comm":"python3","fd":3,"fd_path":"/var/log/app.log","count":6,"data":"hello\n"}""",
            line);
    }

    [Fact]
    public void An_fd_path_is_escaped_and_invalid_utf8_in_it_replaced()
    {
        var line = Format(Records.Header(count: 1, captured: 1), "a"u8, [.. "/tmp/a\"b\n"u8, 0xFF, .. "é"u8]);

        using var json = JsonDocument.Parse(line);
        Assert.Equal("/tmp/a\"b\n\uFFFDé", json.RootElement.GetProperty("fd_path").GetString());
    }

    [Fact]
    public void Fields_come_in_the_documented_order()
    {
        var header = Records.Header(count: 10, captured: 1, flags: WriteEvent.ReadFailedFlag);
        using var text = JsonDocument.Parse(Format(header, "a"u8));
        using var binary = JsonDocument.Parse(Format(header, [0xFF]));

        Assert.Equal(["time", "pid", "tid", "root_pid", "comm", "fd", "count", "data", "truncated", "capture_failed"],
            text.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["time", "pid", "tid", "root_pid", "comm", "fd", "count", "data_b64", "truncated", "capture_failed"],
            binary.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("hello, world")]
    [InlineData("héllo wörld ñ ß")]
    [InlineData("日本語のテキスト")]
    [InlineData("emoji 🎉🚀 and a family 👨‍👩‍👧 end")]
    [InlineData("\u00A0non-breaking\u2028line separator\u2029paragraph\uFEFF")]
    [InlineData("\u007Fdel and a slash / stay as they are")]
    public void Valid_utf8_is_shown_as_data_exactly(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);

        var line = Format(Records.Header(count: (ulong)bytes.Length, captured: (uint)bytes.Length), bytes);

        using var json = JsonDocument.Parse(line);
        Assert.Equal(text, json.RootElement.GetProperty("data").GetString());
        Assert.False(json.RootElement.TryGetProperty("data_b64", out _));
        // Multi-byte characters are written as themselves, not as \u escapes.
        Assert.Contains(text, line);
    }

    public static TheoryData<byte[]> InvalidUtf8 => new()
    {
        new byte[] { 0xFF },
        new byte[] { 0x80 },
        "abc"u8.ToArray().Append((byte)0xC3).ToArray(),                // cut inside a 2-byte character
        Encoding.UTF8.GetBytes("ok 🎉")[..^1],                         // cut inside a 4-byte emoji
        new byte[] { 0xC0, 0x80 },                                      // overlong NUL
        new byte[] { 0xED, 0xA0, 0x80 },                                // an encoded UTF-16 surrogate
        new byte[] { 0xF4, 0x90, 0x80, 0x80 },                          // above U+10FFFF
        new byte[] { 0x00, 0x01, 0x22, 0x5C, 0x0A, 0xFE, 0xFF, 0x7F },  // binary: NUL, quote, backslash, newline, …
        Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(),
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Invalid_utf8_is_shown_as_data_b64_that_decodes_to_the_exact_bytes(byte[] bytes)
    {
        var line = Format(Records.Header(count: (ulong)bytes.Length, captured: (uint)bytes.Length), bytes);

        using var json = JsonDocument.Parse(line);
        Assert.Equal(bytes, Convert.FromBase64String(json.RootElement.GetProperty("data_b64").GetString()!));
        Assert.False(json.RootElement.TryGetProperty("data", out _));
        Assert.False(json.RootElement.TryGetProperty("truncated", out _));
    }

    [Fact]
    public void Every_control_character_quote_and_backslash_is_escaped_and_parses_back_identically()
    {
        var special = Enumerable.Range(0, 0x20).Select(c => (char)c).Concat("\"\\").ToArray();
        var texts = special.Select(c => c.ToString())
            .Append(new string(special))
            .Append("before\u0000middle\"quoted\"\\path\\\r\n\tafter\u001F");

        foreach (var text in texts)
        {
            var bytes = Encoding.UTF8.GetBytes(text);

            var line = Format(Records.Header(count: (ulong)bytes.Length, captured: (uint)bytes.Length), bytes);

            Assert.DoesNotContain(line, c => c < 0x20);
            using var json = JsonDocument.Parse(line);
            Assert.Equal(text, json.RootElement.GetProperty("data").GetString());
        }
    }

    [Fact]
    public void Common_control_characters_use_their_short_escapes()
    {
        var line = Format(Records.Header(count: 9, captured: 9), "\"\\\n\r\t\b\f\u0001\u001f"u8);

        Assert.Contains("""
            "data":"\"\\\n\r\t\b\f\u0001\u001f"
            """, line);
    }

    [Fact]
    public void Truncated_appears_only_when_count_exceeds_what_was_captured()
    {
        Assert.DoesNotContain("truncated", Format(Records.Header(count: 5, captured: 5), "hello"u8));
        Assert.EndsWith("""
            "data":"hel","truncated":true}
            """, Format(Records.Header(count: 5, captured: 3), "hel"u8));
        Assert.EndsWith("""
            "data_b64":"/w==","truncated":true}
            """, Format(Records.Header(count: 4096, captured: 1), [0xFF]));
    }

    [Fact]
    public void With_capture_0_the_data_is_empty_and_marked_truncated()
    {
        Assert.EndsWith("""
            "count":100,"data":"","truncated":true}
            """, Format(Records.Header(count: 100, captured: 0), []));
        // write(fd, buf, 0): nothing asked, nothing missing.
        Assert.EndsWith("""
            "count":0,"data":""}
            """, Format(Records.Header(count: 0, captured: 0), []));
    }

    [Fact]
    public void An_unreadable_buffer_is_marked_capture_failed()
    {
        var failed = Format(Records.Header(count: 64, captured: 0, flags: WriteEvent.ReadFailedFlag), []);
        var fine = Format(Records.Header(count: 64, captured: 64), new byte[64]);

        Assert.EndsWith("""
            "count":64,"data":"","truncated":true,"capture_failed":true}
            """, failed);
        Assert.DoesNotContain("capture_failed", fine);
    }

    [Theory]
    [InlineData("my worker", "my worker")]
    [InlineData("(sd-pam)", "(sd-pam)")]
    [InlineData("a\"b\\c\td", "a\"b\\c\td")]
    [InlineData("sixteen-bytes-xx", "sixteen-bytes-xx")]
    [InlineData("日本語", "日本語")]
    public void Comm_is_escaped_and_stops_at_the_first_nul(string comm, string expected)
    {
        var header = Records.Header(comm: comm);

        using var json = JsonDocument.Parse(Format(header, []));

        Assert.Equal(expected, json.RootElement.GetProperty("comm").GetString());
    }

    [Fact]
    public void One_formatter_writes_each_events_own_comm_as_the_thread_changes()
    {
        var formatter = new JsonEventFormatter();
        string[] comms = ["writer", "writer", "writer-2", "wri\"ter", "writer", "w"];
        var destination = new byte[JsonEventFormatter.MaxLength(0)];

        var written = comms.Select(comm =>
        {
            var length = formatter.Format(Records.Header(comm: comm), [], Records.DesignExampleTime, destination);
            using var json = JsonDocument.Parse(destination.AsMemory(0, length));
            return json.RootElement.GetProperty("comm").GetString();
        });

        Assert.Equal(comms, written);
    }

    [Fact]
    public void A_comm_with_invalid_utf8_keeps_the_line_valid_json()
    {
        var header = Records.Header();
        Records.SetComm(ref header, [(byte)'f', 0xFF, (byte)'o', 0xC3]);

        var line = FormatBytes(header, []);

        Assert.True(System.Text.Unicode.Utf8.IsValid(line));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("f\uFFFDo\uFFFD", json.RootElement.GetProperty("comm").GetString());
    }

    [Fact]
    public void Extreme_numbers_are_written_exactly()
    {
        var header = Records.Header(pid: uint.MaxValue, tid: uint.MaxValue - 1, rootPid: uint.MaxValue - 2, fd: int.MinValue, count: ulong.MaxValue);

        using var json = JsonDocument.Parse(Format(header, []));

        var root = json.RootElement;
        Assert.Equal(uint.MaxValue, root.GetProperty("pid").GetUInt32());
        Assert.Equal(uint.MaxValue - 1, root.GetProperty("tid").GetUInt32());
        Assert.Equal(uint.MaxValue - 2, root.GetProperty("root_pid").GetUInt32());
        Assert.Equal(int.MinValue, root.GetProperty("fd").GetInt32());
        Assert.Equal(ulong.MaxValue, root.GetProperty("count").GetUInt64());
    }

    [Theory]
    [MemberData(nameof(Records.CaptureSizes), MemberType = typeof(Records))]
    public void MaxLength_bounds_the_longest_line_for_the_capture_size(int capture)
    {
        // The worst case of every part: escapes of six bytes, base64, the longest numbers,
        // a comm of control characters, every optional field.
        var header = Records.Header(pid: uint.MaxValue, tid: uint.MaxValue, rootPid: uint.MaxValue, fd: int.MinValue,
            count: ulong.MaxValue, captured: (uint)capture, flags: uint.MaxValue, timestampNs: 0,
            syscall: WriteSyscall.Pwritev2, iovcnt: ushort.MaxValue, offset: long.MinValue);
        header.Result = long.MinValue;
        Records.SetComm(ref header, Enumerable.Repeat((byte)0x01, WriteEvent.CommLength).ToArray());
        var worstPayloads = new[]
        {
            Enumerable.Repeat((byte)0x01, capture).ToArray(), // valid UTF-8, every byte a \u00XX escape
            Enumerable.Repeat((byte)0xFF, capture).ToArray(), // invalid: base64
            Enumerable.Repeat((byte)'"', capture).ToArray(),
        };

        // The longest path /proc gives, of control characters (six bytes each) or of invalid UTF-8 (U+FFFD).
        var worstPaths = new[]
        {
            Array.Empty<byte>(),
            Enumerable.Repeat((byte)0x01, FdPathResolver.MaxPathBytes - 1).ToArray(),
            Enumerable.Repeat((byte)0xFF, FdPathResolver.MaxPathBytes - 1).ToArray(),
        };

        foreach (var payload in worstPayloads)
        {
            foreach (var path in worstPaths)
            {
                var destination = new byte[JsonEventFormatter.MaxLength(capture, withFdPath: path.Length > 0)];

                var length = new JsonEventFormatter(nameSyscalls: true).Format(header, payload, Records.DesignExampleTime, destination, path);

                Assert.True(length + 1 <= destination.Length);
                Assert.Equal((byte)'\n', destination[length]);
                using var json = JsonDocument.Parse(destination.AsMemory(0, length));
            }
        }
    }

    [Fact]
    public void A_cgroup_member_s_event_names_its_cgroup_in_place_of_root_pid()
    {
        var header = Records.Header(pid: 1234, tid: 1236, rootPid: CgroupNames.FirstId, comm: "nginx", fd: 1, count: 3, captured: 3,
            flags: WriteEvent.CgroupRootFlag);
        var destination = new byte[JsonEventFormatter.MaxLength(3)];

        var length = new JsonEventFormatter().Format(header, "hi\n"u8, Records.DesignExampleTime, destination, cgroup: "/system.slice/a\"b.service"u8);

        Assert.Equal(
            """{"time":"2026-11-22T04:18:40.123456789Z","pid":1234,"tid":1236,"cgroup":"/system.slice/a\"b.service","comm":"nginx","fd":1,"count":3,"data":"hi\n"}""",
            Encoding.UTF8.GetString(destination, 0, length));
    }

    [Fact]
    public void The_longest_cgroup_name_fits_the_longest_line()
    {
        var name = Enumerable.Repeat((byte)0x01, CgroupNames.MaxNameBytes).ToArray(); // escaped as \u0001: six bytes each
        var header = Records.Header(count: 16, captured: 16, flags: WriteEvent.CgroupRootFlag);
        var destination = new byte[JsonEventFormatter.MaxLength(16)];

        var length = new JsonEventFormatter().Format(header, Enumerable.Repeat((byte)0x01, 16).ToArray(), Records.DesignExampleTime, destination, cgroup: name);

        Assert.Equal((byte)'\n', destination[length]);
    }

    private static string Format(WriteEvent header, ReadOnlySpan<byte> data, ReadOnlySpan<byte> fdPath = default,
        bool nameSyscalls = false) =>
        Encoding.UTF8.GetString(FormatBytes(header, data, fdPath, nameSyscalls));

    /// <summary>The line without its newline, checking the newline is there and only there.</summary>
    private static byte[] FormatBytes(WriteEvent header, ReadOnlySpan<byte> data, ReadOnlySpan<byte> fdPath = default,
        bool nameSyscalls = false)
    {
        var destination = new byte[JsonEventFormatter.MaxLength(data.Length, withFdPath: !fdPath.IsEmpty)];
        var length = new JsonEventFormatter(nameSyscalls).Format(header, data, Records.DesignExampleTime, destination, fdPath);
        Assert.Equal((byte)'\n', destination[length]);
        var line = destination[..length];
        Assert.DoesNotContain((byte)'\n', line);
        return line;
    }
}
