using System.Text.RegularExpressions;
using WriteTracer.Cli;
using WriteTracer.EndToEnd.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace WriteTracer.EndToEnd.Operations;

/// <summary>
/// utilities/kubernetes/write-tracer-daemonset.yaml, read with a real YAML parser. No API server
/// or schema is available here, so this checks what can go wrong without one: the YAML itself, the
/// references inside the file (selector, volumes, ConfigMap keys, ports), the settings the tracer
/// needs on a node, and that the container's arguments are accepted by the tracer's own parser.
/// </summary>
public sealed partial class KubernetesDaemonSetTests
{
    private readonly List<YamlMappingNode> _documents = Load();

    private YamlMappingNode Object(string kind) => Assert.Single(_documents, d => Text(d, "kind") == kind);

    private YamlMappingNode PodSpec => Map(Object("DaemonSet"), "spec", "template", "spec");

    private YamlMappingNode Container => (YamlMappingNode)Assert.Single(Sequence(PodSpec, "containers"));

    [Fact]
    public void Holds_a_namespace_a_config_map_and_a_daemon_set_in_that_namespace()
    {
        Assert.Equal(["Namespace", "ConfigMap", "DaemonSet"], _documents.Select(d => Text(d, "kind")));
        Assert.Equal(["v1", "v1", "apps/v1"], _documents.Select(d => Text(d, "apiVersion")));
        var ns = Text(Object("Namespace"), "metadata", "name");
        Assert.All(_documents.Skip(1), d => Assert.Equal(ns, Text(d, "metadata", "namespace")));
    }

    [Fact]
    public void The_selector_matches_the_pod_template()
    {
        var daemonSet = Object("DaemonSet");
        var selector = Map(daemonSet, "spec", "selector", "matchLabels");
        var labels = Map(daemonSet, "spec", "template", "metadata", "labels");
        Assert.NotEmpty(selector.Children);
        Assert.All(selector.Children, pair => Assert.Equal(pair.Value.ToString(), labels[pair.Key].ToString()));
    }

    [Fact]
    public void Runs_in_the_hosts_pid_and_network_namespaces_with_BPF_and_PERFMON_only()
    {
        Assert.Equal("true", Text(PodSpec, "hostPID"));
        Assert.Equal("true", Text(PodSpec, "hostNetwork"));
        Assert.Equal("ClusterFirstWithHostNet", Text(PodSpec, "dnsPolicy"));
        var security = Map(Container, "securityContext");
        Assert.Equal("false", Text(security, "privileged"));
        Assert.Equal("false", Text(security, "allowPrivilegeEscalation"));
        Assert.Equal(["ALL"], Strings(Sequence(security, "capabilities", "drop")));
        Assert.Equal(["BPF", "PERFMON"], Strings(Sequence(security, "capabilities", "add")));
    }

    [Fact]
    public void Mounts_BTF_tracefs_and_the_cgroup_hierarchy_from_the_host_and_every_mount_has_its_volume()
    {
        var volumes = Sequence(PodSpec, "volumes").Cast<YamlMappingNode>().ToDictionary(v => Text(v, "name"));
        var mounts = Sequence(Container, "volumeMounts").Cast<YamlMappingNode>().ToList();
        Assert.Equal(volumes.Keys.Order(), mounts.Select(m => Text(m, "name")).Order());
        foreach (var path in new[] { "/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/cgroup" })
        {
            var mount = Assert.Single(mounts, m => Text(m, "mountPath") == path);
            Assert.Equal(path, Text(volumes[Text(mount, "name")], "hostPath", "path"));
        }
    }

    [Fact]
    public void The_arguments_are_valid_for_the_tracer_and_send_events_to_the_config_maps_Loki()
    {
        var options = ParseTracerArguments();

        Assert.Equal(new Uri(Text(Object("ConfigMap"), "data", "LOKI_URL")), options.LokiEndpoint);
        Assert.True(options.NoStdout);
        Assert.Equal(9092, options.RestPort);
        Assert.Equal(2112, options.MetricsPort);
    }

    [Fact]
    public void Prometheus_annotations_and_probes_point_at_the_ports_the_tracer_listens_on()
    {
        var options = ParseTracerArguments();
        var annotations = Map(Object("DaemonSet"), "spec", "template", "metadata", "annotations");
        Assert.Equal("true", Text(annotations, "prometheus.io/scrape"));
        Assert.Equal($"{options.MetricsPort}", Text(annotations, "prometheus.io/port"));
        Assert.Equal("/metrics", Text(annotations, "prometheus.io/path"));

        var metricsPort = (YamlMappingNode)Assert.Single(Sequence(Container, "ports"));
        Assert.Equal(("metrics", $"{options.MetricsPort}"), (Text(metricsPort, "name"), Text(metricsPort, "containerPort")));
        Assert.Equal(("/metrics", "metrics"), (Text(Container, "livenessProbe", "httpGet", "path"), Text(Container, "livenessProbe", "httpGet", "port")));
        // The REST API listens on loopback only: the probe must ask there.
        Assert.Equal(("127.0.0.1", "/healthz", $"{options.RestPort}"),
            (Text(Container, "readinessProbe", "httpGet", "host"), Text(Container, "readinessProbe", "httpGet", "path"),
             Text(Container, "readinessProbe", "httpGet", "port")));
    }

    /// <summary>The container's args as the kubelet passes them ($(VAR) expanded), through the tracer's own parser.</summary>
    private TracerOptions ParseTracerArguments()
    {
        var configMap = Object("ConfigMap");
        var environment = new Dictionary<string, string>();
        foreach (var variable in Sequence(Container, "env").Cast<YamlMappingNode>())
        {
            var reference = Map(variable, "valueFrom", "configMapKeyRef");
            Assert.Equal(Text(configMap, "metadata", "name"), Text(reference, "name"));
            environment[Text(variable, "name")] = Text(configMap, "data", Text(reference, "key"));
        }
        var args = Strings(Sequence(Container, "args"))
            .Select(arg => KubeletVariable().Replace(arg, m => environment.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value))
            .ToList();

        var options = new CommandLine().Parse(args, out _, out var error);

        Assert.True(options is not null, $"write-tracer {string.Join(' ', args)}: {error}");
        return options;
    }

    private static List<YamlMappingNode> Load()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Repository.Root, "utilities", "kubernetes", "write-tracer-daemonset.yaml"));
        stream.Load(reader);
        return [.. stream.Documents.Select(d => Assert.IsType<YamlMappingNode>(d.RootNode))];
    }

    private static YamlMappingNode Map(YamlMappingNode node, params string[] path) =>
        path.Aggregate(node, (current, key) => Assert.IsType<YamlMappingNode>(Child(current, key)));

    private static YamlSequenceNode Sequence(YamlMappingNode node, params string[] path) =>
        Assert.IsType<YamlSequenceNode>(Child(Map(node, path[..^1]), path[^1]));

    private static string Text(YamlMappingNode node, params string[] path) =>
        Assert.IsType<YamlScalarNode>(Child(Map(node, path[..^1]), path[^1])).Value!;

    private static List<string> Strings(YamlSequenceNode sequence) =>
        [.. sequence.Select(item => Assert.IsType<YamlScalarNode>(item).Value!)];

    private static YamlNode Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : throw new Xunit.Sdk.XunitException($"no '{key}' in {node}");

    // Kubernetes expands $(NAME) in args from the container's environment.
    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex KubeletVariable();
}
