using System.Net;
using WriteTracer.Cli;
using WriteTracer.Events;

namespace WriteTracer.Tests.Cli;

/// <summary>The options of the file, Loki and metrics sinks.</summary>
public class SinkOptionsTests
{
    [Fact]
    public void Defaults_match_the_documented_ones()
    {
        var options = Parse("-p", "1");

        Assert.Null(options.FileOutput);
        Assert.Equal(50000, options.MaxRecordsPerFile);
        Assert.Equal(50, options.MaxBackups);
        Assert.Null(options.LokiEndpoint);
        Assert.Empty(options.LokiLabels);
        Assert.Null(options.LokiTenant);
        Assert.Equal(100_000, options.LokiQueueEvents);
        Assert.Equal(2112, options.MetricsPort);
        Assert.Equal(IPAddress.Any, options.MetricsAddress);
        Assert.False(options.NoStdout);
        Assert.Equal(EventFormat.Json, options.Format);
    }

    [Fact]
    public void Every_sink_option_is_read()
    {
        var options = Parse("-p", "1", "-q", "-o", "/tmp/events", "-n", "10", "--max-backups", "0",
            "-l", "https://u:p@loki:3100/loki/api/v1/push", "--loki-label", "env=prod", "--loki-label", "team=a=b",
            "--loki-tenant", "t1", "--loki-queue-events", "500", "--metrics-port", "0", "--metrics-address", "::1");

        Assert.True(options.NoStdout);
        Assert.Equal("/tmp/events", options.FileOutput);
        Assert.Equal(10, options.MaxRecordsPerFile);
        Assert.Equal(0, options.MaxBackups);
        Assert.Equal("https://u:p@loki:3100/loki/api/v1/push", options.LokiEndpoint!.ToString());
        Assert.Equal([new("env", "prod"), new("team", "a=b")], options.LokiLabels);
        Assert.Equal("t1", options.LokiTenant);
        Assert.Equal(500, options.LokiQueueEvents);
        Assert.Equal(0, options.MetricsPort);
        Assert.Equal(IPAddress.IPv6Loopback, options.MetricsAddress);
    }

    [Theory]
    [InlineData("--loki-label: 'env' is not NAME=VALUE", "--loki-label", "env")]
    [InlineData("--loki-label: '1env' is not a label name (letters, digits and _, not starting with a digit)", "--loki-label", "1env=x")]
    [InlineData("--loki-label: 'host' is a label the tracer sets itself", "--loki-label", "host=x")]
    [InlineData("--loki-label: the label 'env' has an empty value", "--loki-label", "env=")]
    [InlineData("--loki-label: the label 'env' is given twice", "--loki-label", "env=a", "--loki-label", "env=b")]
    [InlineData("--loki-tenant: 'a/b' is not a tenant id (1 to 150 of a-z A-Z 0-9 ! - _ . * ' ( ), not . or ..)", "--loki-tenant", "a/b")]
    [InlineData("--loki-queue-events: '0' is not a number of events from 1 to 10000000", "--loki-queue-events", "0")]
    [InlineData("--metrics-address: 'localhost' is not an IPv4 or IPv6 address", "--metrics-address", "localhost")]
    [InlineData("--max-backups: '-1' is not a number of files, 0 or more", "--max-backups", "-1")]
    [InlineData("--max-records-fileoutput: '0' is not a positive number of records", "-n", "0")]
    public void Bad_values_are_one_line_errors_naming_the_option(string error, params string[] args) =>
        Assert.Equal(error, ParseError(["-p", "1", "-l", "http://loki:3100/loki/api/v1/push", .. args]));

    [Fact]
    public void At_most_twelve_extra_labels_fit_in_Lokis_fifteen()
    {
        string[] labels = [.. Enumerable.Range(0, 13).SelectMany(i => new[] { "--loki-label", $"l{i}=v" })];
        Assert.Equal(12, Parse(["-p", "1", "-l", "http://loki/", .. labels[..24]]).LokiLabels.Count);
        Assert.Equal(
            "--loki-label: at most 12 labels (Loki allows 15 per stream, the tracer sets 3)",
            ParseError(["-p", "1", "-l", "http://loki/", .. labels]));
    }

    [Theory]
    [InlineData("--loki-label", "env=prod")]
    [InlineData("--loki-tenant", "t1")]
    [InlineData("--loki-queue-events", "10")]
    public void Loki_options_need_an_endpoint(string option, string value) =>
        Assert.Equal($"{option} needs --loki-endpoint", ParseError(["-p", "1", option, value]));

    [Theory]
    [InlineData("json", nameof(EventFormat.Json))]
    [InlineData("text", nameof(EventFormat.Text))]
    [InlineData("TEXT", nameof(EventFormat.Text))]
    [InlineData("raw", nameof(EventFormat.Raw))]
    public void Format_is_json_text_or_raw(string value, string expected)
    {
        Assert.Equal(expected, Parse("-p", "1", "--format", value).Format.ToString());
        Assert.Equal(expected, Parse("-p", "1", $"--format={value}").Format.ToString());
    }

    [Theory]
    [InlineData("--format: 'xml' is not one of json, text, raw", "--format", "xml")]
    [InlineData("--format: '' is not one of json, text, raw", "--format", "")]
    [InlineData("--format: a value is missing", "--format", "text", "--format")]
    public void A_bad_format_is_a_one_line_error_naming_the_option(string error, params string[] args) =>
        Assert.Equal(error, ParseError(["-p", "1", .. args]));

    [Fact]
    public void Format_comes_from_WRITE_TRACER_FORMAT_unless_the_command_line_gives_it()
    {
        var environment = new Dictionary<string, string> { ["WRITE_TRACER_FORMAT"] = "text" };

        Assert.Equal(EventFormat.Text, Parse(environment, "-p", "1").Format);
        Assert.Equal(EventFormat.Json, Parse(environment, "-p", "1", "--format", "json").Format);
        Assert.Equal("WRITE_TRACER_FORMAT (--format): 'yaml' is not one of json, text, raw",
            ParseError(new Dictionary<string, string> { ["WRITE_TRACER_FORMAT"] = "yaml" }, "-p", "1"));
    }

    private static TracerOptions Parse(params string[] args) => Parse(new Dictionary<string, string>(), args);

    private static TracerOptions Parse(Dictionary<string, string> environment, params string[] args)
    {
        var options = new CommandLine().Parse(args, out _, out var error, environment);
        Assert.True(options is not null, error);
        return options;
    }

    private static string? ParseError(params string[] args) => ParseError(new Dictionary<string, string>(), args);

    private static string? ParseError(Dictionary<string, string> environment, params string[] args)
    {
        Assert.Null(new CommandLine().Parse(args, out _, out var error, environment));
        return error;
    }
}
