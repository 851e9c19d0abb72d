using System.Globalization;
using System.Text;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Tracking;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Events;

public class TextEventFormatterTests
{
    [Fact]
    public void A_plain_write_is_time_comm_pid_tid_fd_size_and_the_quoted_bytes()
    {
        Assert.Equal("""
            04:18:40.123456 python3[1234/1236] fd=1 6 "hello\n"
            """,
            Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1234, comm: "python3", fd: 1, count: 6, captured: 6), "hello\n"u8));
    }

    [Fact]
    public void A_vector_call_names_its_syscall_before_the_fd_and_its_buffers_after_the_bytes()
    {
        Assert.Equal("""
            04:18:40.123456 node[1234/1236] writev fd=1 3 "ab\n" iov=2
            """,
            Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1234, comm: "node", fd: 1, count: 3, captured: 3,
                syscall: WriteSyscall.Writev, iovcnt: 2), "ab\n"u8));
    }

    [Theory]
    [InlineData("pwrite64", 0, 4096, "pwrite64 fd=3 3 \"pw\\n\" off=4096")]
    [InlineData("pwritev", 1, 0, "pwritev fd=3 3 \"pw\\n\" iov=1 off=0")]
    [InlineData("pwritev2", 1, -1, "pwritev2 fd=3 3 \"pw\\n\" iov=1 off=-1")]
    public void A_positioned_call_shows_its_offset(string syscall, ushort iovcnt, long offset, string expected)
    {
        var line = Format(Records.Header(pid: 1234, tid: 1236, rootPid: 1234, comm: "db", fd: 3, count: 3, captured: 3,
            syscall: Records.Syscall(syscall), iovcnt: iovcnt, offset: offset), "pw\n"u8);

        Assert.Equal($"04:18:40.123456 db[1234/1236] {expected}", line);
    }

    [Fact]
    public void The_fd_path_follows_the_fd_in_angle_brackets_escaped_as_strace_y_shows_it()
    {
        var header = Records.Header(pid: 1234, tid: 1236, rootPid: 1234, comm: "python3", fd: 3, count: 3, captured: 3);
        var destination = new byte[TextEventFormatter.MaxLength(3, withFdPath: true)];

        var length = new TextEventFormatter(TimeZoneInfo.Utc).Format(header, "hi\n"u8, Records.DesignExampleTime, destination,
            "/var/log/a b\n.log"u8);

        Assert.Equal("""
            04:18:40.123456 python3[1234/1236] fd=3</var/log/a b\n.log> 3 "hi\n"
            """, Encoding.UTF8.GetString(destination, 0, length));
    }

    [Fact]
    public void The_registered_root_is_shown_when_it_is_another_process()
    {
        Assert.Equal("""
            04:18:40.123456 sh[1300/1301] root=1200 fd=2 3 "hi\n"
            """,
            Format(Records.Header(pid: 1300, tid: 1301, rootPid: 1200, comm: "sh", fd: 2, count: 3, captured: 3), "hi\n"u8));
    }

    [Fact]
    public void The_time_is_local_time_of_day_with_microseconds()
    {
        var india = TimeZoneInfo.CreateCustomTimeZone("test+05:30", TimeSpan.FromMinutes(330), "test+05:30", "test+05:30");
        var header = Records.Header(pid: 1, tid: 1, rootPid: 1, comm: "c", count: 0);

        Assert.StartsWith("09:48:40.123456 c[1/1]", Format(new TextEventFormatter(india), header, []));
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.UnixEpoch.AddTicks(Records.DesignExampleTime / 100), TimeZoneInfo.Local);
        Assert.StartsWith(local.ToString("HH:mm:ss.ffffff ", CultureInfo.InvariantCulture), Format(new TextEventFormatter(), header, []));
    }

    [Fact]
    public void Multi_line_data_stays_on_one_line()
    {
        var line = Format(Records.Header(count: 26, captured: 26), "first\nsecond\r\n\tthird\fend\b\n"u8);

        Assert.EndsWith("""
            fd=1 26 "first\nsecond\r\n\tthird\fend\b\n"
            """, line);
    }

    [Fact]
    public void Quotes_and_backslashes_are_escaped()
    {
        Assert.EndsWith("""
            fd=1 22 "say \"hi\" to C:\\dir\\ \\n"
            """, Format(Records.Header(count: 22, captured: 22), """say "hi" to C:\dir\ \n"""u8));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x00, 0x80, (byte)'p', (byte)'\n' }, """\xff\xfe\x00\x80p\n""")] // writer -b
    [InlineData(new byte[] { (byte)'a', 0xC3 }, """a\xc3""")]                               // cut inside a 2-byte character
    [InlineData(new byte[] { 0xF0, 0x9F, 0x8E }, """\xf0\x9f\x8e""")]                       // cut inside a 4-byte emoji
    [InlineData(new byte[] { 0xC0, 0x80 }, """\xc0\x80""")]                                 // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, """\xed\xa0\x80""")]                       // an encoded UTF-16 surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, """\xf4\x90\x80\x80""")]             // above U+10FFFF
    [InlineData(new byte[] { 0xC3, 0xC3, 0xA9 }, """\xc3é""")]                              // a stray lead byte, then é
    [InlineData(new byte[] { 0x1B, (byte)'[', (byte)'3', (byte)'1', (byte)'m', 0x07, 0x7F }, """\x1b[31m\x07\x7f""")] // terminal escapes, BEL, DEL
    public void Invalid_utf8_and_control_bytes_are_hex_escaped(byte[] bytes, string expected)
    {
        Assert.EndsWith($" \"{expected}\"", Format(Records.Header(count: (ulong)bytes.Length, captured: (uint)bytes.Length), bytes));
    }

    [Theory]
    [InlineData("héllo wörld ñ ß")]
    [InlineData("日本語のテキスト")]
    [InlineData("emoji 🎉🚀 end")]
    [InlineData("combining e\u0301 and private use \uE000")]
    [InlineData("~ / ' ` { } | ")]
    public void Visible_characters_are_shown_as_they_are(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);

        Assert.EndsWith($" \"{text}\"", Format(Records.Header(count: (ulong)bytes.Length, captured: (uint)bytes.Length), bytes));
    }

    [Theory]
    [InlineData("a\u0085b", """a\xc2\x85b""")]                      // C1 next line
    [InlineData("a\u009B31mb", """a\xc2\x9b31mb""")]                // C1 CSI: an escape sequence to some terminals
    [InlineData("no\u00A0break", """no\xc2\xa0break""")]            // looks like a space
    [InlineData("zero\u200Bwidth", """zero\xe2\x80\x8bwidth""")]    // looks like nothing
    [InlineData("\uFEFFbom", """\xef\xbb\xbfbom""")]
    [InlineData("abc\u202Efed", """abc\xe2\x80\xaefed""")]          // right-to-left override: reorders what follows
    [InlineData("line\u2028separator\u2029paragraph", """line\xe2\x80\xa8separator\xe2\x80\xa9paragraph""")]
    public void Invisible_characters_are_hex_escaped_byte_by_byte(string text, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(text);

        Assert.EndsWith($" \"{expected}\"", Format(Records.Header(count: (ulong)bytes.Length, captured: (uint)bytes.Length), bytes));
    }

    public static TheoryData<byte[]> Payloads()
    {
        var random = new Random(6);
        var payloads = new TheoryData<byte[]>
        {
            Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(),
            Encoding.UTF8.GetBytes("mixed \"quotes\" \\ é 🎉 \u200B\u0085\n\r\t\0 end"),
        };
        for (var i = 0; i < 20; i++)
        {
            var bytes = new byte[random.Next(1, 300)];
            random.NextBytes(bytes);
            payloads.Add(bytes);
        }
        return payloads;
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Any_bytes_give_one_line_of_valid_utf8_that_unescapes_to_exactly_those_bytes(byte[] bytes)
    {
        var line = FormatBytes(Records.Header(count: (ulong)bytes.Length, captured: (uint)bytes.Length), bytes);

        Assert.True(System.Text.Unicode.Utf8.IsValid(line));
        Assert.DoesNotContain(line, b => b < 0x20 || b == 0x7F);
        var text = Encoding.UTF8.GetString(line);
        var quoted = text[(text.IndexOf('"') + 1)..^1];
        Assert.Equal(bytes, Unescape(quoted));
    }

    [Theory]
    [InlineData(4096UL, "abc", 0u, "fd=1 4096 \"abc\"...")]                               // larger than its capture: an ellipsis after the quote
    [InlineData(300UL, "", 0u, "fd=1 300 \"\"...")]                                       // nothing captured of it
    [InlineData(3UL, "abc", 0u, "fd=1 3 \"abc\"")]                                        // captured whole: no ellipsis
    [InlineData(0UL, "", 0u, "fd=1 0 \"\"")]                                              // an empty write: an empty string
    [InlineData(64UL, "", WriteEvent.ReadFailedFlag, "fd=1 64 \"\"... <capture failed>")] // an unreadable buffer
    public void The_size_asked_for_and_the_quoted_bytes_say_what_was_not_captured(ulong count, string data, uint flags, string tail)
    {
        var bytes = Encoding.UTF8.GetBytes(data);

        Assert.EndsWith(tail, Format(Records.Header(count: count, captured: (uint)bytes.Length, flags: flags), bytes));
    }

    [Theory]
    [InlineData(6L, " ret=6")]
    [InlineData(-28L, " ret=-28")]
    [InlineData(0L, " ret=0")]
    public void The_result_is_shown_when_captured_at_exit(long result, string expected)
    {
        var header = Records.Header(count: 6, captured: 6, flags: WriteEvent.HasResultFlag);
        header.Result = result;

        Assert.EndsWith($"fd=1 6 \"hello\\n\"{expected}", Format(header, "hello\n"u8));
        Assert.DoesNotContain("ret=", Format(Records.Header(count: 6, captured: 6), "hello\n"u8));
    }

    [Fact]
    public void Every_marker_comes_in_order()
    {
        var header = Records.Header(pid: 9, tid: 10, rootPid: 8, comm: "w", fd: 5, count: 100, captured: 0,
            flags: WriteEvent.ReadFailedFlag | WriteEvent.HasResultFlag);
        header.Result = -14;

        Assert.Equal("04:18:40.123456 w[9/10] root=8 fd=5 100 \"\"... <capture failed> ret=-14", Format(header, []));
    }

    [Fact]
    public void The_comm_is_escaped_and_stops_at_the_first_nul()
    {
        var header = Records.Header(pid: 1, tid: 1, rootPid: 1);
        Records.SetComm(ref header, [(byte)'a', (byte)'\t', 0xFF, (byte)'"', (byte)'b', 0, (byte)'x']);

        Assert.StartsWith("04:18:40.123456 a\\t\\xff\\\"b[1/1] fd=1", Format(header, []));
        Assert.StartsWith("04:18:40.123456 sixteen-bytes-xx[1/1]", Format(Records.Header(pid: 1, tid: 1, rootPid: 1, comm: "sixteen-bytes-xx"), []));
    }

    [Theory]
    [MemberData(nameof(Records.CaptureSizes), MemberType = typeof(Records))]
    public void MaxLength_bounds_the_longest_line_for_the_capture_size(int capture)
    {
        // The worst case of every part: four-byte escapes, the longest numbers, a comm of control characters, every marker.
        var header = Records.Header(pid: uint.MaxValue, tid: uint.MaxValue - 1, rootPid: uint.MaxValue - 2, fd: int.MinValue,
            count: ulong.MaxValue, captured: (uint)capture, flags: uint.MaxValue,
            syscall: WriteSyscall.Pwritev2, iovcnt: ushort.MaxValue, offset: long.MinValue);
        header.Result = long.MinValue;
        Records.SetComm(ref header, Enumerable.Repeat((byte)0x01, WriteEvent.CommLength).ToArray());
        var destination = new byte[TextEventFormatter.MaxLength(capture)];

        var length = new TextEventFormatter(TimeZoneInfo.Utc).Format(header, Enumerable.Repeat((byte)0x01, capture).ToArray(), Records.DesignExampleTime, destination);

        Assert.True(length + 1 <= destination.Length);
        Assert.Equal((byte)'\n', destination[length]);
        Assert.EndsWith($"pwritev2 fd={int.MinValue} {ulong.MaxValue} \"{string.Concat(Enumerable.Repeat("\\x01", capture))}\"... " +
            $"iov={ushort.MaxValue} off={long.MinValue} <capture failed> ret={long.MinValue}",
            Encoding.UTF8.GetString(destination, 0, length));
    }

    /// <summary>The inverse of the escaping, as a reader of the line would apply it.</summary>
    private static byte[] Unescape(string quoted)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < quoted.Length; i++)
        {
            if (quoted[i] != '\\')
            {
                var length = char.IsHighSurrogate(quoted[i]) ? 2 : 1;
                bytes.AddRange(Encoding.UTF8.GetBytes(quoted.Substring(i, length)));
                i += length - 1;
                continue;
            }
            i++;
            switch (quoted[i])
            {
                case 'x':
                    bytes.Add(byte.Parse(quoted.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                    i += 2;
                    break;
                default:
                    bytes.Add(quoted[i] switch
                    {
                        'n' => (byte)'\n', 'r' => (byte)'\r', 't' => (byte)'\t', 'b' => (byte)'\b', 'f' => (byte)'\f',
                        '"' => (byte)'"', '\\' => (byte)'\\',
                        var other => throw new FormatException($"unknown escape \\{other}"),
                    });
                    break;
            }
        }
        return [.. bytes];
    }

    /// <summary>The line of an event at <see cref="Records.DesignExampleTime"/>, with times in UTC.</summary>
    [Fact]
    public void A_cgroup_member_shows_its_cgroup_instead_of_a_root()
    {
        var header = Records.Header(pid: 1300, tid: 1301, rootPid: CgroupNames.FirstId, comm: "nginx", fd: 2, count: 3, captured: 3,
            flags: WriteEvent.CgroupRootFlag);
        var destination = new byte[TextEventFormatter.MaxLength(3)];

        var length = new TextEventFormatter(TimeZoneInfo.Utc).Format(header, "hi\n"u8, Records.DesignExampleTime, destination,
            cgroup: "/system.slice/nginx.service"u8);

        Assert.Equal("""
            04:18:40.123456 nginx[1300/1301] cg=/system.slice/nginx.service fd=2 3 "hi\n"
            """, Encoding.UTF8.GetString(destination, 0, length));
    }

    private static string Format(WriteEvent header, ReadOnlySpan<byte> data) =>
        Format(new TextEventFormatter(TimeZoneInfo.Utc), header, data);

    private static string Format(TextEventFormatter formatter, WriteEvent header, ReadOnlySpan<byte> data) =>
        Encoding.UTF8.GetString(FormatBytes(formatter, header, data));

    private static byte[] FormatBytes(WriteEvent header, ReadOnlySpan<byte> data) =>
        FormatBytes(new TextEventFormatter(TimeZoneInfo.Utc), header, data);

    /// <summary>The line without its newline, checking the newline is there and only there.</summary>
    private static byte[] FormatBytes(TextEventFormatter formatter, WriteEvent header, ReadOnlySpan<byte> data)
    {
        var destination = new byte[TextEventFormatter.MaxLength(data.Length)];
        var length = formatter.Format(header, data, Records.DesignExampleTime, destination);
        Assert.Equal((byte)'\n', destination[length]);
        var line = destination[..length];
        Assert.DoesNotContain((byte)'\n', line);
        return line;
    }
}
