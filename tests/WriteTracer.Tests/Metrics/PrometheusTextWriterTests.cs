using WriteTracer.Metrics;

namespace WriteTracer.Tests.Metrics;

public class PrometheusTextWriterTests
{
    private readonly StringWriter _text = new() { NewLine = "\n" };

    [Fact]
    public void Each_family_has_help_and_type_then_its_samples()
    {
        var w = new PrometheusTextWriter(_text);
        w.Counter("a_total", "Things counted.", 42);
        w.Gauge("b_bytes", "Size now.", 1.5);
        w.Counter("c_total", "By stage.", "stage", [new("kernel", 0), new("stdout", 7)]);

        Assert.Equal(
            """
            # HELP a_total Things counted.
            # TYPE a_total counter
            a_total 42
            # HELP b_bytes Size now.
            # TYPE b_bytes gauge
            b_bytes 1.5
            # HELP c_total By stage.
            # TYPE c_total counter
            c_total{stage="kernel"} 0
            c_total{stage="stdout"} 7

            """.ReplaceLineEndings("\n"),
            _text.ToString());
    }

    [Fact]
    public void Help_text_and_label_values_are_escaped()
    {
        var w = new PrometheusTextWriter(_text);
        w.Gauge("g", "back\\slash \"quoted\"\nnext line", "path", [new("C:\\dir \"x\"\ny", 1)]);

        Assert.Equal(
            "# HELP g back\\\\slash \"quoted\"\\nnext line\n# TYPE g gauge\ng{path=\"C:\\\\dir \\\"x\\\"\\ny\"} 1\n",
            _text.ToString());
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(9007199254740992d, "9007199254740992")]
    [InlineData(1e-7, "1E-07")]
    [InlineData(0.1, "0.1")]
    public void Values_are_written_as_Prometheus_reads_them(double value, string expected)
    {
        new PrometheusTextWriter(_text).Gauge("g", "h", value);
        Assert.EndsWith($"\ng {expected}\n", _text.ToString());
    }

    [Fact]
    public void Invalid_names_and_repeated_families_or_series_are_programming_errors()
    {
        var w = new PrometheusTextWriter(_text);
        Assert.Throws<ArgumentException>(() => w.Gauge("9lives", "h", 1));
        Assert.Throws<ArgumentException>(() => w.Gauge("has-dash", "h", 1));
        Assert.Throws<ArgumentException>(() => w.Gauge("g1", "h", "bad-label", [new("x", 1)]));
        Assert.Throws<ArgumentException>(() => w.Gauge("g2", "h", "__reserved", [new("x", 1)]));
        Assert.Throws<ArgumentException>(() => w.Counter("c_total", "h", "stage", [new("x", 1), new("x", 2)]));
        w.Gauge("once", "h", 1);
        Assert.Throws<InvalidOperationException>(() => w.Gauge("once", "h", 2));
    }
}
