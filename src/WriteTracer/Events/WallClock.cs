using System.Diagnostics;

namespace WriteTracer.Events;

/// <summary>
/// Turns kernel timestamps (CLOCK_MONOTONIC, as bpf_ktime_get_ns gives them) into
/// wall-clock nanoseconds since the Unix epoch. The offset between the two clocks
/// moves when NTP steps the wall clock, so the reader refreshes it every poll cycle.
/// </summary>
internal sealed class WallClock
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private long _offsetNs;

    public WallClock() => Refresh();

    /// <summary>For tests: a fixed offset.</summary>
    public WallClock(long offsetNs) => _offsetNs = offsetNs;

    public long OffsetNs => Volatile.Read(ref _offsetNs);

    public void Refresh()
    {
        // Bracket the wall-clock read with two monotonic reads and use their midpoint.
        var before = Stopwatch.GetTimestamp();
        var wallNs = UtcNowNanoseconds();
        var after = Stopwatch.GetTimestamp();
        var monotonicNs = (long)((before + (after - before) / 2) * NanosecondsPerTick);
        Volatile.Write(ref _offsetNs, wallNs - monotonicNs);
    }

    public long ToUnixNanoseconds(ulong monotonicNs) => (long)monotonicNs + OffsetNs;

    /// <summary>The wall clock now, in nanoseconds since the Unix epoch (100 ns resolution).</summary>
    public static long UtcNowNanoseconds() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
}
