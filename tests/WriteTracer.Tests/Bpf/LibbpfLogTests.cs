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
}
