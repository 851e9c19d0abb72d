using Serilog.Events;
using WriteTracer.Bpf;
using WriteTracer.Native;

namespace WriteTracer.Tests.Bpf;

public sealed class LibbpfLogTests
{
    [Theory]
    [InlineData(Interop.Libbpf.LIBBPF_WARN, LogEventLevel.Warning)]
    [InlineData(Interop.Libbpf.LIBBPF_INFO, LogEventLevel.Information)]
    [InlineData(Interop.Libbpf.LIBBPF_DEBUG, LogEventLevel.Debug)]
    public void Each_libbpf_level_is_logged_at_its_serilog_counterpart(int libbpfLevel, LogEventLevel expected)
    {
        Assert.Equal(expected, LibbpfLog.LevelOf(libbpfLevel));
    }

    [Fact]
    public void A_message_that_fits_is_kept_whole()
    {
        var text = new string('x', LibbpfLog.KeptHead + LibbpfLog.KeptTail);

        Assert.Same(text, LibbpfLog.Shorten(text));
    }

    [Fact]
    public void A_long_verifier_log_keeps_its_start_and_the_end_that_says_why_and_counts_what_it_left_out()
    {
        var text = "prog 'handle_sys_enter': -- BEGIN PROG LOAD LOG --\n" + new string('.', 100_000)
            + "\nR2 min value is negative, either use unsigned or 'var &= const'\n-- END PROG LOAD LOG --";

        var shortened = LibbpfLog.Shorten(text);

        Assert.StartsWith(text[..LibbpfLog.KeptHead], shortened);
        Assert.EndsWith(text[^LibbpfLog.KeptTail..], shortened);
        Assert.Contains($"\n… {text.Length - LibbpfLog.KeptHead - LibbpfLog.KeptTail} characters of this message left out …\n", shortened);
        Assert.Contains("R2 min value is negative", shortened);
    }
}
