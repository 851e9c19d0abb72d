using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using WriteTracer.Events;
using WriteTracer.Sinks.Loki;
using WriteTracer.Tracking;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Sinks.Loki;

public class LokiPushClientTests
{
    private static readonly KeyValuePair<string, string>[] ExtraLabels = [new("env", "prod \"eu\"")];
    private static readonly Uri Endpoint = new("http://tracer:p%40ss@loki.example:3100/loki/api/v1/push");

    [Fact]
    public void The_body_is_gzip_json_with_one_stream_in_time_order_and_root_pid_as_each_entrys_metadata()
    {
        using var client = new LokiPushClient(Endpoint, ExtraLabels, tenant: null, host: "box");
        var batch = Batch((20, 300, "{\"n\":\"late\"}"), (10, 200, "{\"n\":\"b\"}"), (20, 100, "{\"n\":\"early\"}"), (10, 100, "{\"n\":\"a\\\\\"}"), (20, 300, "{\"n\":\"tie\"}"));

        client.Encode(batch);

        using var body = Decompress(client.Body.ToArray());
        var stream = Assert.Single(body.RootElement.GetProperty("streams").EnumerateArray());
        Assert.Equal(new Dictionary<string, string> { ["job"] = "write-tracer", ["host"] = "box", ["env"] = "prod \"eu\"" }, Labels(stream));
        // Equal timestamps keep their order of arrival.
        Assert.Equal(
            [("100", "{\"n\":\"early\"}", "20"), ("100", "{\"n\":\"a\\\\\"}", "10"), ("200", "{\"n\":\"b\"}", "10"), ("300", "{\"n\":\"late\"}", "20"), ("300", "{\"n\":\"tie\"}", "20")],
            Entries(stream));
        Assert.All(stream.GetProperty("values").EnumerateArray(), v => Assert.Equal(["root_pid"], v[2].EnumerateObject().Select(p => p.Name)));
    }

    [Fact]
    public void With_root_pid_as_a_label_each_root_is_a_stream_of_its_own_without_metadata()
    {
        using var client = new LokiPushClient(Endpoint, ExtraLabels, tenant: null, host: "box", rootPidLabel: true);
        var batch = Batch((20, 300, "{\"n\":\"late\"}"), (10, 200, "{\"n\":\"b\"}"), (20, 100, "{\"n\":\"early\"}"), (10, 100, "{\"n\":\"a\"}"));

        client.Encode(batch);

        using var body = Decompress(client.Body.ToArray());
        var streams = body.RootElement.GetProperty("streams").EnumerateArray().ToList();
        Assert.Equal(2, streams.Count);
        Assert.Equal(
            new Dictionary<string, string> { ["job"] = "write-tracer", ["host"] = "box", ["env"] = "prod \"eu\"", ["root_pid"] = "10" },
            Labels(streams[0]));
        Assert.Equal([("100", "{\"n\":\"a\"}"), ("200", "{\"n\":\"b\"}")], Values(streams[0]));
        Assert.Equal("20", Labels(streams[1])["root_pid"]);
        Assert.Equal([("100", "{\"n\":\"early\"}"), ("300", "{\"n\":\"late\"}")], Values(streams[1]));
        Assert.All(streams.SelectMany(s => s.GetProperty("values").EnumerateArray()), v => Assert.Equal(2, v.GetArrayLength()));
        Assert.False(client.SendsStructuredMetadata);
    }

    [Fact]
    public void A_cgroup_registrations_entries_carry_the_cgroup_as_metadata_in_the_one_stream_even_with_root_pid_labels()
    {
        var names = new CgroupNames();
        var cgroup = (uint)names.Allocate("/system.slice/nginx \"a\".service");
        using var client = new LokiPushClient(Endpoint, [], tenant: null, host: "box", cgroupNames: names);
        client.Encode(Batch((cgroup, 100, "{\"n\":1}"), (10, 200, "{\"n\":2}")));

        using var body = Decompress(client.Body.ToArray());
        var values = Assert.Single(body.RootElement.GetProperty("streams").EnumerateArray()).GetProperty("values").EnumerateArray().ToList();
        Assert.Equal("/system.slice/nginx \"a\".service", values[0][2].GetProperty("cgroup").GetString());
        Assert.Equal(["cgroup"], values[0][2].EnumerateObject().Select(p => p.Name));
        Assert.Equal("10", values[1][2].GetProperty("root_pid").GetString());

        using var labelled = new LokiPushClient(Endpoint, [], tenant: null, host: "box", rootPidLabel: true, cgroupNames: names);
        labelled.Encode(Batch((cgroup, 100, "{\"n\":1}")));
        using var labelledBody = Decompress(labelled.Body.ToArray());
        Assert.DoesNotContain("root_pid", Labels(Assert.Single(labelledBody.RootElement.GetProperty("streams").EnumerateArray())).Keys);
    }

    [Fact]
    public void Once_told_to_stop_sending_structured_metadata_entries_have_none()
    {
        using var client = new LokiPushClient(Endpoint, [], tenant: null, host: "box");
        Assert.True(client.SendsStructuredMetadata);

        client.StopSendingStructuredMetadata();
        client.Encode(Batch((10, 100, "{}")));

        using var body = Decompress(client.Body.ToArray());
        var entry = Assert.Single(Assert.Single(body.RootElement.GetProperty("streams").EnumerateArray()).GetProperty("values").EnumerateArray());
        Assert.Equal(2, entry.GetArrayLength());
    }

    [Theory]
    [InlineData(400, "stream '{job=\"write-tracer\"}' includes structured metadata, but this feature is disallowed. Please see `limits_config.structured_metadata` or contact your Loki administrator to enable it.", true)]
    [InlineData(400, "Structured metadata is not supported by this schema", true)]
    [InlineData(400, "stream has 16 labels", false)]
    [InlineData(500, "structured metadata backend down", false)]
    public void A_refusal_naming_structured_metadata_is_recognized(int status, string text, bool refusesMetadata)
    {
        using var client = new LokiPushClient(Endpoint, [], null, "box", new FakeHttpHandler(_ => FakeHttpHandler.Status(status, text)));
        client.Encode(Batch((1, 1, "{}")));

        Assert.Equal(refusesMetadata, LokiPushClient.RefusesStructuredMetadata(client.Send(CancellationToken.None)));
    }

    [Fact]
    public void A_push_carries_json_gzip_tenant_and_basic_auth_from_the_url_which_is_sent_without_them()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Status(204));
        using var client = new LokiPushClient(Endpoint, [], tenant: "team-a", host: "box", handler);
        client.Encode(Batch((1, 1, "{}")));

        Assert.Equal(LokiPushResult.Accepted, client.Send(CancellationToken.None));

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://loki.example:3100/loki/api/v1/push", request.Uri.ToString());
        Assert.Equal("application/json", request.ContentHeaders!.ContentType!.MediaType);
        Assert.Equal(["gzip"], request.ContentHeaders.ContentEncoding);
        Assert.Equal(["team-a"], request.Headers.GetValues("X-Scope-OrgID"));
        Assert.Equal(new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("tracer:p@ss"))), request.Headers.Authorization);
        Assert.Equal(client.Body.ToArray(), request.Body);
        Assert.Equal("http://loki.example:3100/loki/api/v1/push", client.Endpoint.ToString());
    }

    [Fact]
    public void Without_user_info_or_tenant_those_headers_are_absent()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Status(200));
        using var client = new LokiPushClient(new Uri("https://loki.example/loki/api/v1/push"), [], tenant: null, host: "box", handler);
        client.Encode(Batch((1, 1, "{}")));

        Assert.Equal(LokiPushOutcome.Accepted, client.Send(CancellationToken.None).Outcome);

        var request = Assert.Single(handler.Requests);
        Assert.Null(request.Headers.Authorization);
        Assert.False(request.Headers.Contains("X-Scope-OrgID"));
    }

    [Theory]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(404, false)]
    [InlineData(413, false)]
    [InlineData(301, false)]
    public void Responses_are_retried_or_refused_by_status(int status, bool retried)
    {
        using var client = new LokiPushClient(Endpoint, [], null, "box",
            new FakeHttpHandler(_ => FakeHttpHandler.Status(status, "entry too far behind")));
        client.Encode(Batch((1, 1, "{}")));

        var result = client.Send(CancellationToken.None);

        Assert.Equal(retried ? LokiPushOutcome.Retry : LokiPushOutcome.Rejected, result.Outcome);
        Assert.StartsWith($"{status} ", result.Reason);
        Assert.EndsWith(": entry too far behind", result.Reason);
        Assert.Null(result.RetryAfter);
    }

    [Fact]
    public void Retry_After_is_passed_on()
    {
        using var client = new LokiPushClient(Endpoint, [], null, "box",
            new FakeHttpHandler(_ => FakeHttpHandler.Status(429, "slow down", TimeSpan.FromSeconds(7))));
        client.Encode(Batch((1, 1, "{}")));

        Assert.Equal(TimeSpan.FromSeconds(7), client.Send(CancellationToken.None).RetryAfter);
    }

    [Fact]
    public void Network_errors_are_retried()
    {
        using var client = new LokiPushClient(Endpoint, [], null, "box",
            new FakeHttpHandler(_ => throw new HttpRequestException("Connection refused")));
        client.Encode(Batch((1, 1, "{}")));

        Assert.Equal(LokiPushResult.Retry("Connection refused"), client.Send(CancellationToken.None));
    }

    [Fact]
    public void Cancelling_aborts_the_push()
    {
        using var client = new LokiPushClient(Endpoint, [], null, "box",
            new FakeHttpHandler(_ => throw new OperationCanceledException()));
        client.Encode(Batch((1, 1, "{}")));

        Assert.ThrowsAny<OperationCanceledException>(() => client.Send(new CancellationToken(canceled: true)));
    }

    [Theory]
    [InlineData("env", "prod", null)]
    [InlineData("_private", "x", null)]
    [InlineData("a1_B2", "x", null)]
    [InlineData("1st", "x", "'1st' is not a label name (letters, digits and _, not starting with a digit)")]
    [InlineData("with-dash", "x", "'with-dash' is not a label name (letters, digits and _, not starting with a digit)")]
    [InlineData("", "x", "'' is not a label name (letters, digits and _, not starting with a digit)")]
    [InlineData("__name__", "x", "'__name__': label names starting with __ are reserved")]
    [InlineData("job", "x", "'job' is a label the tracer sets itself")]
    [InlineData("root_pid", "x", "'root_pid' is a label the tracer sets itself")]
    [InlineData("env", "", "the label 'env' has an empty value")]
    public void Label_names_and_values_follow_Lokis_rules(string name, string value, string? error) =>
        Assert.Equal(error, LokiPushClient.LabelError(name, value));

    [Fact]
    public void Overlong_label_names_and_values_are_refused()
    {
        Assert.NotNull(LokiPushClient.LabelError(new string('a', 1025), "x"));
        Assert.NotNull(LokiPushClient.LabelError("a", new string('x', 2049)));
        Assert.Null(LokiPushClient.LabelError(new string('a', 1024), new string('x', 2048)));
    }

    [Theory]
    [InlineData("team-a", true)]
    [InlineData("Tenant_1.prod(eu)*!'", true)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    public void Tenant_ids_follow_Lokis_rules(string tenant, bool valid) =>
        Assert.Equal(valid, LokiPushClient.TenantError(tenant) is null);

    /// <summary>A batch of (root pid, unix ns, line) events.</summary>
    internal static EventBatch Batch(params (uint RootPid, long UnixNs, string Line)[] events)
    {
        var batch = TestBatches.Pool().Rent();
        foreach (var (rootPid, unixNs, line) in events)
        {
            var length = Encoding.UTF8.GetBytes(line, batch.FreeSpace);
            batch.FreeSpace[length] = (byte)'\n';
            batch.Commit(length, rootPid, unixNs);
        }
        return batch;
    }

    private static JsonDocument Decompress(byte[] gzip)
    {
        using var stream = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        return JsonDocument.Parse(stream);
    }

    private static Dictionary<string, string> Labels(JsonElement stream) =>
        stream.GetProperty("stream").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    private static List<(string, string)> Values(JsonElement stream) =>
        [.. stream.GetProperty("values").EnumerateArray().Select(v => (v[0].GetString()!, v[1].GetString()!))];

    /// <summary>(time, line, root_pid metadata) of every entry.</summary>
    private static List<(string, string, string)> Entries(JsonElement stream) =>
        [.. stream.GetProperty("values").EnumerateArray().Select(v => (v[0].GetString()!, v[1].GetString()!, v[2].GetProperty("root_pid").GetString()!))];
}
