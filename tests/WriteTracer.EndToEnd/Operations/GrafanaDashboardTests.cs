using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>
/// utilities/grafana/write-tracer-dashboard.json: well formed, every query against the metrics and
/// Loki labels the tracer really exports (docs/DESIGN.md, "Metrics" and "Loki"), and every PromQL
/// expression accepted by Prometheus' own parser (promtool).
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    /// <summary>Metric families of the metrics contract (docs/DESIGN.md, "Metrics") that the dashboard uses.</summary>
    private static readonly string[] ContractMetrics =
    [
        "write_tracer_tracked_threads", "write_tracer_tracked_processes", "write_tracer_write_calls_total",
        "write_tracer_write_bytes_total", "write_tracer_events_dropped_total", "write_tracer_loki_pushes_total",
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds",
    ];

    /// <summary>Labels a query may group or join on: the exported ones plus what the scrape adds.</summary>
    private static readonly string[] KnownLabels = ["stage", "result", "host", "instance", "root_pid"];

    private static readonly string[] PromQlKeywords =
        ["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool"];

    private readonly JsonElement _dashboard = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(Repository.Root, "utilities", "grafana", "write-tracer-dashboard.json"))).RootElement;

    private IEnumerable<JsonElement> Panels => _dashboard.GetProperty("panels").EnumerateArray();

    private IEnumerable<(JsonElement Panel, string Expr)> Queries(string datasourceType) =>
        from panel in Panels
        where panel.GetProperty("datasource").GetProperty("type").GetString() == datasourceType
        from target in panel.GetProperty("targets").EnumerateArray()
        select (panel, target.GetProperty("expr").GetString()!);

    [Fact]
    public void Declares_a_current_schema_and_the_datasource_and_host_variables()
    {
        Assert.True(_dashboard.GetProperty("schemaVersion").GetInt32() >= 36);
        var variables = _dashboard.GetProperty("templating").GetProperty("list").EnumerateArray()
            .ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Equal(("datasource", "prometheus"), (variables["prometheus"].GetProperty("type").GetString(), variables["prometheus"].GetProperty("query").GetString()));
        Assert.Equal(("datasource", "loki"), (variables["loki"].GetProperty("type").GetString(), variables["loki"].GetProperty("query").GetString()));
        var host = variables["host"];
        Assert.Equal("${prometheus}", host.GetProperty("datasource").GetProperty("uid").GetString());
        Assert.Equal(".*", host.GetProperty("allValue").GetString());
        Assert.True(host.GetProperty("includeAll").GetBoolean());
    }

    [Fact]
    public void Every_panel_has_a_title_a_datasource_variable_and_queries_on_it()
    {
        var expectedUid = new Dictionary<string, string> { ["prometheus"] = "${prometheus}", ["loki"] = "${loki}" };
        Assert.NotEmpty(Panels);
        foreach (var panel in Panels)
        {
            var title = panel.GetProperty("title").GetString();
            Assert.False(string.IsNullOrWhiteSpace(title));
            var datasource = panel.GetProperty("datasource");
            var type = datasource.GetProperty("type").GetString()!;
            Assert.True(expectedUid.ContainsKey(type), $"{title}: datasource type {type}");
            Assert.Equal(expectedUid[type], datasource.GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.True(JsonElement.DeepEquals(datasource, t.GetProperty("datasource")), $"{title}: a query on another datasource"));
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), title));
            Assert.Equal(targets.Count, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
        }
        Assert.Equal(Panels.Count(), Panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
    }

    [Fact]
    public void Panels_fit_the_24_column_grid_without_overlapping()
    {
        var boxes = Panels.Select(p => (Title: p.GetProperty("title").GetString(), Grid: p.GetProperty("gridPos"))).Select(p =>
            (p.Title, X: p.Grid.GetProperty("x").GetInt32(), Y: p.Grid.GetProperty("y").GetInt32(),
             W: p.Grid.GetProperty("w").GetInt32(), H: p.Grid.GetProperty("h").GetInt32())).ToList();
        Assert.All(boxes, b => Assert.True(b.X >= 0 && b.W > 0 && b.X + b.W <= 24 && b.H > 0, b.Title));
        for (var i = 0; i < boxes.Count; i++)
        {
            for (var j = i + 1; j < boxes.Count; j++)
            {
                var (a, b) = (boxes[i], boxes[j]);
                var overlap = a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H;
                Assert.False(overlap, $"'{a.Title}' overlaps '{b.Title}'");
            }
        }
    }

    [Fact]
    public void PromQL_uses_only_the_exported_metrics_and_covers_all_of_them()
    {
        var used = new HashSet<string>();
        foreach (var (panel, expr) in Queries("prometheus"))
        {
            var names = MetricNames(expr);
            Assert.True(names.Count > 0, $"{panel.GetProperty("title")}: no metric in {expr}");
            Assert.All(names, name => Assert.True(ContractMetrics.Contains(name), $"{panel.GetProperty("title")}: '{name}' is not an exported metric ({expr})"));
            Assert.All(GroupingLabels(expr), label => Assert.True(KnownLabels.Contains(label), $"{panel.GetProperty("title")}: unknown label '{label}' ({expr})"));
            used.UnionWith(names);
        }
        Assert.Equal(ContractMetrics.Order(), used.Order());
    }

    [Fact]
    public async Task PromQL_parses_with_promtool()
    {
        // Each expression becomes a recording rule: `promtool check rules` parses it as Prometheus would.
        var rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        var index = 0;
        foreach (var (_, expr) in Queries("prometheus"))
        {
            rules.Append($"      - record: dashboard:expression_{index++}\n        expr: {JsonSerializer.Serialize(WithVariablesSubstituted(expr))}\n");
        }
        using var file = new TempFile();
        await File.WriteAllTextAsync(file.Path, rules.ToString());

        var (exitCode, stdout, stderr) = await Shell.ExecAsync("promtool", ["check", "rules", file.Path], TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, $"promtool (Debian's prometheus package, `make deps`) rejected:\n{stdout}{stderr}\n{rules}");
        Assert.Contains($"SUCCESS: {index} rules found", stdout);
    }

    [Fact]
    public void Loki_queries_select_the_tracers_streams_and_the_logs_panel_filters_by_fd_and_comm()
    {
        var loki = Queries("loki").ToList();
        Assert.NotEmpty(loki);
        Assert.All(loki, q => Assert.Contains("""{job="write-tracer", host=~"$host"} | json""", q.Expr));
        var logs = Assert.Single(Panels, p => p.GetProperty("type").GetString() == "logs");
        Assert.Equal("loki", logs.GetProperty("datasource").GetProperty("type").GetString());
        Assert.Equal(
            "{job=\"write-tracer\", host=~\"$host\"} | json | fd=~\"$fd\" | comm=~\"${comm:raw}\"",
            logs.GetProperty("targets")[0].GetProperty("expr").GetString());
        // Aggregations over streams group only by the stream labels the tracer sets.
        Assert.All(loki.SelectMany(q => GroupingLabels(q.Expr)), label => Assert.Contains(label, new[] { "job", "host", "root_pid" }));
    }

    /// <summary>The metric names of a PromQL expression: identifiers outside strings, matchers, ranges and clauses that are not functions or keywords.</summary>
    private static HashSet<string> MetricNames(string expr)
    {
        var stripped = StringLiteral().Replace(expr, "\"\"");
        stripped = Matchers().Replace(stripped, " ");
        stripped = Ranges().Replace(stripped, " ");
        stripped = GroupingClause().Replace(stripped, " ");
        return [.. Identifier().Matches(stripped).Select(m => m.Groups[1].Value).Where(name => !PromQlKeywords.Contains(name))];
    }

    private static IEnumerable<string> GroupingLabels(string expr) =>
        GroupingClause().Matches(expr).SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static string WithVariablesSubstituted(string expr) => GrafanaVariable().Replace(expr, m => m.Groups[1].Value switch
    {
        "__rate_interval" => "5m",
        "__interval" => "1m",
        "__range" => "1h",
        _ => ".*",
    });

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")]
    private static partial Regex GroupingClause();

    // An identifier not followed by "(": function and aggregation names are.
    [GeneratedRegex(@"(?<![\w:])([a-zA-Z_:][\w:]*)(?![\w:]*\s*\()")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"\$\{?(\w+)(?::\w+)?\}?")]
    private static partial Regex GrafanaVariable();
}
