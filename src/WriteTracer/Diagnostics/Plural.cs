using System.Globalization;

namespace WriteTracer.Diagnostics;

/// <summary>Counts in messages read as English does: "1 process (1 thread)", "2 processes (5 threads)".</summary>
internal static class Plural
{
    public static string Count(long count, string one, string many) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many)}");
}
