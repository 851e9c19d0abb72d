using System.Globalization;

namespace WriteTracer.Events;

/// <summary>
/// Timestamps of events: RFC 3339 UTC with nanoseconds ("2026-11-22T04:18:40.123456789Z")
/// for JSON, or, with <see cref="LocalTimeOfDay"/>, local time of day with microseconds
/// ("05:18:40.123456") as strace -tt shows it. Events arrive in bursts within the same
/// second, so the part up to the fraction is formatted once per second and reused.
/// </summary>
internal sealed class TimestampFormatter
{
    private const string Rfc3339Prefix = "yyyy-MM-dd'T'HH:mm:ss'.'";
    private const string TimeOfDayPrefix = "HH:mm:ss'.'";
    private const int MaxPrefixLength = 20; // "yyyy-MM-ddTHH:mm:ss."

    public const int MaxLength = MaxPrefixLength + 10;

    private readonly byte[] _prefix = new byte[MaxPrefixLength];
    private readonly string _prefixFormat;
    private readonly TimeZoneInfo? _zone;
    private readonly int _fractionDigits;
    private readonly uint _nanosecondsPerUnit;
    private int _prefixLength;
    private long _prefixSecond = long.MinValue;

    /// <summary>RFC 3339 UTC with nanoseconds.</summary>
    public TimestampFormatter()
        : this(Rfc3339Prefix, zone: null, fractionDigits: 9)
    {
    }

    /// <param name="zone">Null for UTC, marked with 'Z'.</param>
    private TimestampFormatter(string prefixFormat, TimeZoneInfo? zone, int fractionDigits)
    {
        _prefixFormat = prefixFormat;
        _zone = zone;
        _fractionDigits = fractionDigits;
        _nanosecondsPerUnit = (uint)Math.Pow(10, 9 - fractionDigits);
    }

    /// <summary>"HH:mm:ss.ffffff" in the zone (the machine's local time when none is given).</summary>
    public static TimestampFormatter LocalTimeOfDay(TimeZoneInfo? zone = null) =>
        new(TimeOfDayPrefix, zone ?? TimeZoneInfo.Local, fractionDigits: 6);

    public void Write(long unixNanoseconds, ref Utf8Writer writer)
    {
        var second = Math.DivRem(unixNanoseconds, 1_000_000_000L, out var nanoseconds);
        if (nanoseconds < 0)
        {
            second--;
            nanoseconds += 1_000_000_000L;
        }
        if (second != _prefixSecond)
        {
            var time = DateTime.UnixEpoch.AddSeconds(second);
            if (_zone is not null)
            {
                time = TimeZoneInfo.ConvertTimeFromUtc(time, _zone);
            }
            time.TryFormat(_prefix, out _prefixLength, _prefixFormat, CultureInfo.InvariantCulture);
            _prefixSecond = second;
        }
        writer.Raw(_prefix.AsSpan(0, _prefixLength));
        writer.FixedDigits((uint)nanoseconds / _nanosecondsPerUnit, _fractionDigits);
        if (_zone is null)
        {
            writer.Byte((byte)'Z');
        }
    }
}
