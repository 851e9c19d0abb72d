using System.Globalization;
using System.Text.RegularExpressions;

namespace WriteTracer.Metrics;

/// <summary>
/// The one type that knows the Prometheus text exposition format 0.0.4: per family a
/// HELP line and a TYPE line, then its samples, with help text and label values
/// escaped. Each family is written once.
/// </summary>
internal sealed partial class PrometheusTextWriter(TextWriter output)
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly HashSet<string> _families = [];

    public void Counter(string name, string help, double value)
    {
        Family(name, "counter", help);
        Sample(name, null, null, value);
    }

    public void Gauge(string name, string help, double value)
    {
        Family(name, "gauge", help);
        Sample(name, null, null, value);
    }

    /// <summary>A counter with one label, a sample per label value.</summary>
    public void Counter(string name, string help, string labelName, IEnumerable<KeyValuePair<string, double>> samples) =>
        Labelled(name, "counter", help, labelName, samples);

    /// <summary>A gauge with one label, a sample per label value.</summary>
    public void Gauge(string name, string help, string labelName, IEnumerable<KeyValuePair<string, double>> samples) =>
        Labelled(name, "gauge", help, labelName, samples);

    private void Labelled(string name, string type, string help, string labelName, IEnumerable<KeyValuePair<string, double>> samples)
    {
        if (!LabelName().IsMatch(labelName) || labelName.StartsWith("__", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{labelName}' is not a valid label name", nameof(labelName));
        }
        Family(name, type, help);
        var values = new HashSet<string>();
        foreach (var (labelValue, value) in samples)
        {
            if (!values.Add(labelValue))
            {
                throw new ArgumentException($"{name}{{{labelName}=\"{labelValue}\"}} is given twice", nameof(samples));
            }
            Sample(name, labelName, labelValue, value);
        }
    }

    private void Family(string name, string type, string help)
    {
        if (!MetricName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a valid metric name", nameof(name));
        }
        if (!_families.Add(name))
        {
            throw new InvalidOperationException($"the metric family {name} is written twice");
        }
        output.Write("# HELP ");
        output.Write(name);
        output.Write(' ');
        Escape(help, escapeQuotes: false);
        output.Write("\n# TYPE ");
        output.Write(name);
        output.Write(' ');
        output.Write(type);
        output.Write('\n');
    }

    private void Sample(string name, string? labelName, string? labelValue, double value)
    {
        output.Write(name);
        if (labelName is not null)
        {
            output.Write('{');
            output.Write(labelName);
            output.Write("=\"");
            Escape(labelValue!, escapeQuotes: true);
            output.Write("\"}");
        }
        output.Write(' ');
        output.Write(FormatValue(value));
        output.Write('\n');
    }

    private static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>HELP text escapes \ and newline; label values also escape ".</summary>
    private void Escape(string text, bool escapeQuotes)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\':
                    output.Write(@"\\");
                    break;
                case '\n':
                    output.Write(@"\n");
                    break;
                case '"' when escapeQuotes:
                    output.Write("\\\"");
                    break;
                default:
                    output.Write(c);
                    break;
            }
        }
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();
}
