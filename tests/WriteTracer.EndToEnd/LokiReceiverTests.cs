using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>The stand-in for Loki refuses what Loki refuses, or the Loki tests would prove nothing.</summary>
public sealed class LokiReceiverTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new();
    private static readonly string Now = $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000}";
    private LokiReceiver _loki = null!;

    public async Task InitializeAsync() => _loki = await LokiReceiver.StartAsync();

    public async Task DisposeAsync() => await _loki.DisposeAsync();

    [Fact]
    public async Task A_valid_push_is_accepted_and_recorded()
    {
        var status = await PushAsync($$"""{"streams":[{"stream":{"job":"x","root_pid":"7"},"values":[["{{Now}}","one"],["{{Now}}","two"]]}]}""");

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal(["one", "two"], _loki.Entries.Select(e => e.Line));
        Assert.Equal("7", _loki.Entries[0].Labels["root_pid"]);
    }

    [Fact]
    public async Task Structured_metadata_is_recorded_with_its_entry()
    {
        var status = await PushAsync($$"""{"streams":[{"stream":{"job":"x"},"values":[["{{Now}}","one",{"root_pid":"7"}],["{{Now}}","two"]]}]}""");

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal(new Dictionary<string, string> { ["root_pid"] = "7" }, _loki.Entries[0].Metadata);
        Assert.Empty(_loki.Entries[1].Metadata);
    }

    [Fact]
    public async Task A_receiver_refusing_structured_metadata_refuses_a_push_that_has_any_and_takes_one_without()
    {
        _loki.RefuseStructuredMetadata = true;

        Assert.Equal(HttpStatusCode.BadRequest,
            await PushAsync($$"""{"streams":[{"stream":{"job":"x"},"values":[["{{Now}}","one"],["{{Now}}","two",{"root_pid":"7"}]]}]}"""));
        Assert.Contains("includes structured metadata, but this feature is disallowed", _loki.Requests[^1].Error);
        Assert.Equal(HttpStatusCode.NoContent, await PushAsync($$"""{"streams":[{"stream":{"job":"x"},"values":[["{{Now}}","one"]]}]}"""));
        Assert.Single(_loki.Entries);
    }

    [Fact]
    public async Task Streams_beyond_the_limit_are_refused_with_429_as_Loki_does()
    {
        _loki.MaxStreams = 2;

        Assert.Equal(HttpStatusCode.NoContent, await PushAsync($$"""{"streams":[{"stream":{"job":"x","n":"1"},"values":[["{{Now}}","a"]]},{"stream":{"job":"x","n":"2"},"values":[["{{Now}}","b"]]}]}"""));
        Assert.Equal(HttpStatusCode.NoContent, await PushAsync($$"""{"streams":[{"stream":{"n":"1","job":"x"},"values":[["{{Now}}","c"]]}]}"""));
        Assert.Equal(HttpStatusCode.TooManyRequests, await PushAsync($$"""{"streams":[{"stream":{"job":"x","n":"3"},"values":[["{{Now}}","d"]]}]}"""));
        Assert.Equal(["a", "b", "c"], _loki.Entries.Select(e => e.Line));
    }

    [Theory]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["NOW","line",["root_pid","7"]]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["NOW","line",{"root_pid":7}]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["NOW","line",{"root-pid":"7"}]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["NOW","line",{"a":"1"},{"b":"2"}]]}]}""")]
    [InlineData("""{"streams":[{"stream":{},"values":[["NOW","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"1abc":"x"},"values":[["NOW","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"a-b":"x"},"values":[["NOW","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"__name__":"x"},"values":[["NOW","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":""},"values":[["NOW","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":7},"values":[["NOW","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[[NOWNUMBER,"line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["1.5e18","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["1700000000000000","line"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["NOW",""]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"},"values":[["NOW"]]}]}""")]
    [InlineData("""{"streams":[{"stream":{"job":"x"}}]}""")]
    [InlineData("""{"entries":[]}""")]
    [InlineData("""not json""")]
    public async Task Pushes_Loki_would_refuse_are_refused(string body)
    {
        var status = await PushAsync(body.Replace("NOWNUMBER", Now).Replace("NOW", Now));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Empty(_loki.Entries);
    }

    [Fact]
    public async Task More_than_fifteen_labels_are_refused()
    {
        var labels = string.Join(",", Enumerable.Range(0, 16).Select(i => $"\"l{i}\":\"v\""));

        Assert.Equal(HttpStatusCode.BadRequest, await PushAsync($$"""{"streams":[{"stream":{{{labels}}},"values":[["{{Now}}","x"]]}]}"""));
    }

    [Fact]
    public async Task Entries_out_of_time_order_within_a_stream_are_refused()
    {
        var later = $"{long.Parse(Now) + 1}";

        Assert.Equal(HttpStatusCode.BadRequest,
            await PushAsync($$"""{"streams":[{"stream":{"job":"x"},"values":[["{{later}}","b"],["{{Now}}","a"]]}]}"""));
    }

    [Fact]
    public async Task Bodies_that_are_not_gzip_json_are_refused()
    {
        var body = $$"""{"streams":[{"stream":{"job":"x"},"values":[["{{Now}}","x"]]}]}""";

        Assert.Equal(HttpStatusCode.BadRequest, await PushAsync(body, gzip: false));
        Assert.Equal(HttpStatusCode.BadRequest, await PushAsync(body, contentType: "application/x-protobuf"));
        Assert.Empty(_loki.Entries);
    }

    [Fact]
    public async Task Injected_faults_answer_in_order_then_pushes_are_accepted_again()
    {
        var body = $$"""{"streams":[{"stream":{"job":"x"},"values":[["{{Now}}","x"]]}]}""";
        _loki.Inject(LokiFault.Fail(500), LokiFault.Fail(429, TimeSpan.FromSeconds(3)));

        Assert.Equal(HttpStatusCode.InternalServerError, await PushAsync(body));
        using (var limited = await SendAsync(body, gzip: true, "application/json"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(3), limited.Headers.RetryAfter?.Delta);
        }
        Assert.Equal(HttpStatusCode.NoContent, await PushAsync(body));
        Assert.Single(_loki.Entries);

        await _loki.StopAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => PushAsync(body));
        await _loki.RestartAsync();
        Assert.Equal(HttpStatusCode.NoContent, await PushAsync(body));
    }

    private async Task<HttpStatusCode> PushAsync(string json, bool gzip = true, string contentType = "application/json")
    {
        using var response = await SendAsync(json, gzip, contentType);
        return response.StatusCode;
    }

    private async Task<HttpResponseMessage> SendAsync(string json, bool gzip, string contentType)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        if (gzip)
        {
            using var compressed = new MemoryStream();
            using (var stream = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                stream.Write(bytes);
            }
            bytes = compressed.ToArray();
        }
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }
        return await Http.PostAsync(_loki.PushUrl, content);
    }
}
