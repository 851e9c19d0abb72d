using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>The strace parser the reference tests rely on, on output strace 6.1 printed.</summary>
public sealed class StraceLogTests
{
    [Fact]
    public void Every_call_of_the_family_is_decoded_with_its_bytes_count_offset_and_result()
    {
        var calls = StraceLog.Parse("""
            12396 writev(3, [{iov_base="\x61", iov_len=1}, {iov_base="", iov_len=0}, {iov_base="\xff\x0a", iov_len=2}], 3) = 3
            12396 pwritev(4, [{iov_base="\x78\x79", iov_len=2}, {iov_base="\x7a", iov_len=1}], 2, 5) = 3
            12396 write(5, "\x33\x0a", 2)           = 2
            12396 pwritev2(4, [{iov_base="\x78\x79", iov_len=2}], 1, -1, 0) = 2
            12396 pwrite64(4, "\x70", 1, 7)         = 1
            12396 write(1, "plain \"text\"\n\t\\\0\177", 16) = -1 EBADF (Bad file descriptor)
            """);

        Assert.Equal(
        [
            new StraceCall(12396, "writev", 3, 3, null, 3, [0x61, 0xff, 0x0a], false, 3, null),
            new StraceCall(12396, "pwritev", 4, 3, 5, 2, "xyz"u8.ToArray(), false, 3, null),
            new StraceCall(12396, "write", 5, 2, null, null, "3\n"u8.ToArray(), false, 2, null),
            new StraceCall(12396, "pwritev2", 4, 2, -1, 1, "xy"u8.ToArray(), false, 2, null),
            new StraceCall(12396, "pwrite64", 4, 1, 7, null, "p"u8.ToArray(), false, 1, null),
            new StraceCall(12396, "write", 1, 16, null, null, "plain \"text\"\n\t\\\0\x7f"u8.ToArray(), false, -1, "EBADF"),
        ], calls, new CallComparer());
    }

    [Fact]
    public void A_call_interrupted_by_another_thread_takes_its_result_from_the_resumed_line()
    {
        var calls = StraceLog.Parse("""
            [pid 14046] writev(40, [{iov_base="\x74\x68", iov_len=2}], 1 <unfinished ...>
            [pid 14049] write(40, "abc"..., 20000 <unfinished ...>
            [pid 14046] <... writev resumed>)             = 2
            --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=14050} ---
            [pid 14049] <... write resumed>)              = 20000
            +++ exited with 0 +++
            """);

        Assert.Equal([(14046, "writev", 2L, false), (14049, "write", 20000L, true)],
            calls.Select(c => (c.Pid, c.Syscall, c.Result!.Value, c.Truncated)));
    }

    [Theory]
    [InlineData("1 read(0, \"\", 1) = 0")]
    [InlineData("1 write(1, \"a\", 1")]
    [InlineData("1 <... write resumed>) = 1")]
    [InlineData("1 write(1, \"a\", 1 <unfinished ...>")]
    [InlineData("1 write(1, \"\\q\", 1) = 1")]
    public void What_is_not_a_complete_call_of_the_family_is_a_format_error(string output)
    {
        Assert.Throws<FormatException>(() => StraceLog.Parse(output));
    }

    /// <summary>Records compare arrays by reference; calls compare their bytes.</summary>
    private sealed class CallComparer : IEqualityComparer<StraceCall>
    {
        public bool Equals(StraceCall? x, StraceCall? y) =>
            x! with { Bytes = null } == y! with { Bytes = null } && x.Bytes.AsSpan().SequenceEqual(y.Bytes);

        public int GetHashCode(StraceCall obj) => obj.Syscall.GetHashCode();
    }
}
