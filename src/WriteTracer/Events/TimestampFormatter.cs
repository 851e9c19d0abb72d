namespace WriteTracer.Events;

/// <summary>
/// RFC 3339 UTC timestamps with nanoseconds ("2026-11-22T04:18:40.123456789Z").
/// Events arrive in bursts within the same second, so the date-and-time prefix is
/// formatted once per second and reused.
/// </summary>
internal sealed class TimestampFormatter
{
    private const int PrefixLength = 20; // "yyyy-MM-ddTHH:mm:ss."
    private readonly byte[] _prefix = new byte[PrefixLength];
    private long _prefixSecond = long.MinValue;

    public const int MaxLength = PrefixLength + 10;

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
            time.TryFormat(_prefix, out _, "yyyy-MM-dd'T'HH:mm:ss'.'", System.Globalization.CultureInfo.InvariantCulture);
            _prefixSecond = second;
        }
        writer.Raw(_prefix);
        writer.NineDigits((uint)nanoseconds);
        writer.Byte((byte)'Z');
    }
}
