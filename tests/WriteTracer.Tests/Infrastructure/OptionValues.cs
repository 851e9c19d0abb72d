using System.Collections;
using System.Globalization;
using WriteTracer.Cli;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>
/// Every property of <see cref="TracerOptions"/> as text, lists joined, so two runs' options compare
/// by value (the record's own equality compares its lists by reference) and a difference names the property.
/// </summary>
internal static class OptionValues
{
    public static SortedDictionary<string, string> Of(TracerOptions options) =>
        new(typeof(TracerOptions).GetProperties().ToDictionary(p => p.Name, p => Text(p.GetValue(options))));

    private static string Text(object? value) => value switch
    {
        null => "null",
        string text => text,
        IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Text)) + "]",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
