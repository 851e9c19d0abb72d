using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using WriteTracer.Events;

namespace WriteTracer.Tests.Events;

public partial class TimestampFormatterTests
{
    [Theory]
    [InlineData("1970-01-01T00:00:00", 0, "1970-01-01T00:00:00.000000000Z")]
    [InlineData("2026-11-22T04:18:40", 123_456_789, "2026-11-22T04:18:40.123456789Z")]
    [InlineData("2026-11-22T04:18:40", 1, "2026-11-22T04:18:40.000000001Z")]
    [InlineData("2024-02-29T12:00:00", 999_999_999, "2024-02-29T12:00:00.999999999Z")]
    [InlineData("2100-12-31T23:59:59", 50, "2100-12-31T23:59:59.000000050Z")]
    public void Formats_rfc3339_utc_with_nine_fractional_digits(string second, int nanoseconds, string expected)
    {
        Assert.Equal(expected, Format(new TimestampFormatter(), UnixNanoseconds(second, nanoseconds)));
    }

    [Fact]
    public void A_moment_before_the_epoch_is_still_a_valid_timestamp()
    {
        Assert.Equal("1969-12-31T23:59:59.999999999Z", Format(new TimestampFormatter(), -1));
    }

    [Fact]
    public void The_cached_prefix_follows_second_day_and_year_boundaries()
    {
        var formatter = new TimestampFormatter();
        // One formatter across the sequence, as on the reader thread: every step moves to
        // another second (forwards and backwards), so a stale prefix would show.
        var sequence = new (string Second, int Nanoseconds)[]
        {
            ("2025-12-31T23:59:58", 999_999_999),
            ("2025-12-31T23:59:59", 0),
            ("2025-12-31T23:59:59", 999_999_999),
            ("2026-01-01T00:00:00", 0),
            ("2026-01-01T00:00:00", 1),
            ("2026-01-01T00:00:01", 0),
            ("2025-12-31T23:59:59", 500_000_000),
            ("2026-03-01T00:00:00", 0),
            ("2026-02-28T23:59:59", 999_999_999),
            ("2024-02-29T00:00:00", 42),
            ("2038-01-19T03:14:08", 0),
        };

        foreach (var (second, nanoseconds) in sequence)
        {
            var text = Format(formatter, UnixNanoseconds(second, nanoseconds));

            Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{second}.{nanoseconds:D9}Z"), text);
            Assert.Matches(Rfc3339Nanoseconds(), text);
        }
    }

    [Fact]
    public void Consecutive_events_within_a_second_reuse_the_prefix_and_keep_their_own_fraction()
    {
        var formatter = new TimestampFormatter();
        var second = UnixNanoseconds("2026-11-22T04:18:40", 0);

        foreach (var nanoseconds in new[] { 0, 7, 123_456_789, 999_999_999 })
        {
            Assert.Equal($"2026-11-22T04:18:40.{nanoseconds:D9}Z", Format(formatter, second + nanoseconds));
        }
    }

    [Theory]
    [InlineData("2026-11-22T04:18:40", 123_456_789, 0, "04:18:40.123456")]
    [InlineData("2026-11-22T04:18:40", 999_999_999, 0, "04:18:40.999999")] // cut, not rounded, as strace -tt does
    [InlineData("2026-11-22T04:18:40", 123_456_789, 330, "09:48:40.123456")]
    [InlineData("2026-11-22T04:18:40", 1_000, -300, "23:18:40.000001")] // the day before
    [InlineData("1970-01-01T00:00:00", 0, 0, "00:00:00.000000")]
    public void Local_time_of_day_has_six_fractional_digits_in_the_zone(string second, int nanoseconds, int offsetMinutes, string expected)
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("test", TimeSpan.FromMinutes(offsetMinutes), "test", "test");

        Assert.Equal(expected, Format(TimestampFormatter.LocalTimeOfDay(zone), UnixNanoseconds(second, nanoseconds)));
    }

    [Fact]
    public void Local_time_of_day_follows_the_seconds_and_defaults_to_the_machines_zone()
    {
        var formatter = TimestampFormatter.LocalTimeOfDay();

        foreach (var (second, nanoseconds) in new[] { ("2026-03-29T00:59:59", 999_999_000), ("2026-03-29T01:00:00", 0), ("2026-10-25T00:59:59", 5_000), ("2026-10-25T01:00:00", 0) })
        {
            var unixNs = UnixNanoseconds(second, nanoseconds);
            var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.UnixEpoch.AddTicks(unixNs / 100), TimeZoneInfo.Local);
            Assert.Equal(local.ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture), Format(formatter, unixNs));
        }
    }

    private static string Format(TimestampFormatter formatter, long unixNanoseconds)
    {
        var buffer = new byte[TimestampFormatter.MaxLength];
        var writer = new Utf8Writer(buffer);
        formatter.Write(unixNanoseconds, ref writer);
        return Encoding.ASCII.GetString(buffer, 0, writer.Position);
    }

    private static long UnixNanoseconds(string second, int nanoseconds) =>
        (DateTime.ParseExact(second, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal)
            - DateTime.UnixEpoch).Ticks * 100 + nanoseconds;

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$")]
    private static partial Regex Rfc3339Nanoseconds();
}
