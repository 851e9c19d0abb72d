using System.Diagnostics;
using WriteTracer.Events;

namespace WriteTracer.Tests.Events;

public class WallClockTests
{
    [Fact]
    public void A_fixed_offset_is_added_to_the_kernel_timestamp()
    {
        const long offset = 1_700_000_000_000_000_000;
        var clock = new WallClock(offset);

        Assert.Equal(offset, clock.OffsetNs);
        Assert.Equal(offset, clock.ToUnixNanoseconds(0));
        Assert.Equal(offset + 123_456_789_012_345, clock.ToUnixNanoseconds(123_456_789_012_345));
    }

    [Fact]
    public void A_negative_offset_is_applied_too()
    {
        var clock = new WallClock(-500);

        Assert.Equal(500, clock.ToUnixNanoseconds(1_000));
    }

    [Fact]
    public void A_refreshed_clock_maps_the_monotonic_now_to_the_wall_clock_now()
    {
        // On Linux the Stopwatch reads CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns.
        var clock = new WallClock();
        clock.Refresh();

        var monotonicNs = (ulong)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
        var mapped = clock.ToUnixNanoseconds(monotonicNs);
        var wallNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

        // A correctness bound (a wrong clock or unit is off by hours or by factors), not a timing one.
        Assert.InRange(mapped, wallNs - 1_000_000_000, wallNs + 1_000_000_000);
    }
}
