using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// Loki's push endpoint (POST /loki/api/v1/push) on 127.0.0.1, enforcing the contract
/// as Loki does and rejecting with 400 what Loki would reject: Content-Type
/// application/json, a gzip body (which the tracer promises), the shape
/// {"streams":[{"stream":{labels},"values":[["&lt;ns&gt;","line",{metadata}],…]}]}, timestamps as
/// strings of integer nanoseconds within Loki's accepted window, label names by the
/// Prometheus rule and not reserved (__…), 1 to 15 labels with non-empty values, structured
/// metadata (Loki 3.x) as an optional third element: an object of string values under
/// label-rule names. Like Loki it limits the streams a tenant has (429 past
/// <see cref="MaxStreams"/>), and like Loki before 3.0 or with allow_structured_metadata
/// off it can refuse metadata (400, <see cref="RefuseStructuredMetadata"/>). It also checks
/// the tracer's own promise that a stream's entries are in time order. Accepted entries
/// are recorded; faults (500, 429 with Retry-After, slow answers, being stopped) are
/// injected on demand.
/// </summary>
internal sealed partial class LokiReceiver : IAsyncDisposable
{
    public const string PushPath = "/loki/api/v1/push";
    private const int MaxLabels = 15;
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);
    private static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(10);

    private readonly ConcurrentQueue<LokiFault> _faults = new();
    private readonly ConcurrentQueue<LokiEntry> _entries = new();
    private readonly ConcurrentQueue<LokiRequest> _requests = new();
    private readonly HashSet<string> _streams = [];
    private WebApplication? _app;

    private LokiReceiver()
    {
    }

    public int Port { get; private set; }

    public string PushUrl => $"http://127.0.0.1:{Port}{PushPath}";

    /// <summary>Applied to every request after the queued faults are used up.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Streams (distinct label sets) accepted at most; a push that would add more is refused with 429, as Loki's max_global_streams_per_user does.</summary>
    public int MaxStreams { get; set; } = 5000;

    /// <summary>Refuse every push with structured metadata (400), as Loki does when it is not allowed.</summary>
    public bool RefuseStructuredMetadata { get; set; }

    /// <summary>What was accepted (204), in order of arrival.</summary>
    public IReadOnlyList<LokiEntry> Entries => [.. _entries];

    public IReadOnlyList<LokiRequest> Requests => [.. _requests];

    public static async Task<LokiReceiver> StartAsync()
    {
        var receiver = new LokiReceiver();
        await receiver.ListenAsync(0);
        return receiver;
    }

    /// <summary>Waits until at least this many entries were accepted (a failure guard, not a timing assertion).</summary>
    public async Task WaitForEntriesAsync(int atLeast, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_entries.Count < atLeast)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{_entries.Count} of {atLeast} entries at the receiver within {timeout}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>The next requests, one fault each, in order.</summary>
    public void Inject(params LokiFault[] faults)
    {
        foreach (var fault in faults)
        {
            _faults.Enqueue(fault);
        }
    }

    /// <summary>Stops listening: pushes meet a refused connection until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public Task RestartAsync() => ListenAsync(Port);

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapPost(PushPath, HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.Single()).Port;
        _app = app;
    }

    private async Task<IResult> HandleAsync(HttpRequest request)
    {
        var received = Stopwatch.GetTimestamp();
        var tenant = request.Headers["X-Scope-OrgID"].FirstOrDefault();
        var authorization = request.Headers.Authorization.FirstOrDefault();
        var contentEncoding = request.Headers.ContentEncoding.ToString();
        using var buffered = new MemoryStream();
        await request.Body.CopyToAsync(buffered);

        var aborted = request.HttpContext.RequestAborted;
        if (_faults.TryDequeue(out var fault))
        {
            await Task.Delay(fault.Delay, aborted);
            if (fault.Status is { } injected)
            {
                _requests.Enqueue(new LokiRequest(received, injected, tenant, authorization, contentEncoding, 0, "injected"));
                if (fault.RetryAfter is { } retryAfter)
                {
                    request.HttpContext.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString();
                }
                return Results.Text($"injected failure {injected}", statusCode: injected);
            }
        }
        else if (ResponseDelay > TimeSpan.Zero)
        {
            // Until the client gives up: a receiver that never answers must not hold up its own shutdown.
            await Task.Delay(ResponseDelay, aborted);
        }

        var entries = new List<LokiEntry>();
        var error = Validate(request.ContentType, contentEncoding, buffered.ToArray(), entries);
        if (error is null && RefuseStructuredMetadata && entries.FirstOrDefault(e => e.Metadata.Count > 0) is { } withMetadata)
        {
            error = $"stream '{Selector(withMetadata.Labels)}' includes structured metadata, but this feature is disallowed. " +
                "Please see `limits_config.structured_metadata` or contact your Loki administrator to enable it.";
        }
        var status = error is null ? 204 : 400;
        lock (_streams)
        {
            var added = entries.Select(e => Selector(e.Labels)).Distinct().Where(s => !_streams.Contains(s)).ToList();
            if (error is null && _streams.Count + added.Count > MaxStreams)
            {
                (status, error) = (429, "Maximum active stream limit exceeded, reduce the number of active streams " +
                    $"(reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, limit: {MaxStreams}");
            }
            else if (error is null)
            {
                _streams.UnionWith(added);
            }
        }
        _requests.Enqueue(new LokiRequest(received, status, tenant, authorization, contentEncoding, entries.Count, error));
        if (error is not null)
        {
            return Results.Text(error, statusCode: status);
        }
        foreach (var entry in entries)
        {
            _entries.Enqueue(entry);
        }
        return Results.NoContent();
    }

    private static string? Validate(string? contentType, string contentEncoding, byte[] body, List<LokiEntry> entries)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType != "application/json")
        {
            return $"unsupported Content-Type '{contentType}'";
        }
        if (contentEncoding != "gzip")
        {
            return $"expected Content-Encoding gzip, got '{contentEncoding}'";
        }
        JsonDocument document;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            document = JsonDocument.Parse(gzip);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            return $"cannot decode the body: {e.Message}";
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("streams", out var streams) || streams.ValueKind != JsonValueKind.Array)
            {
                return "the body has no \"streams\" array";
            }
            foreach (var stream in streams.EnumerateArray())
            {
                if (ValidateStream(stream, entries) is { } error)
                {
                    return error;
                }
            }
        }
        return null;
    }

    private static string? ValidateStream(JsonElement stream, List<LokiEntry> entries)
    {
        if (stream.ValueKind != JsonValueKind.Object
            || !stream.TryGetProperty("stream", out var labelsJson) || labelsJson.ValueKind != JsonValueKind.Object
            || !stream.TryGetProperty("values", out var values) || values.ValueKind != JsonValueKind.Array)
        {
            return "a stream needs a \"stream\" object and a \"values\" array";
        }
        var labels = new Dictionary<string, string>();
        foreach (var label in labelsJson.EnumerateObject())
        {
            if (!LabelName().IsMatch(label.Name) || label.Name.StartsWith("__", StringComparison.Ordinal))
            {
                return $"invalid label name '{label.Name}'";
            }
            if (label.Value.ValueKind != JsonValueKind.String || label.Value.GetString()!.Length == 0)
            {
                return $"label '{label.Name}' needs a non-empty string value";
            }
            if (!labels.TryAdd(label.Name, label.Value.GetString()!))
            {
                return $"duplicate label name '{label.Name}'";
            }
        }
        if (labels.Count == 0)
        {
            return "error at least one label pair is required per stream";
        }
        if (labels.Count > MaxLabels)
        {
            return $"stream has {labels.Count} labels, more than {MaxLabels}";
        }

        var now = DateTimeOffset.UtcNow;
        long previous = long.MinValue;
        foreach (var value in values.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is not (2 or 3)
                || value[0].ValueKind != JsonValueKind.String || value[1].ValueKind != JsonValueKind.String)
            {
                return "an entry must be [\"<unix ns>\", \"<line>\"] or [\"<unix ns>\", \"<line>\", {structured metadata}]";
            }
            var metadata = new Dictionary<string, string>();
            if (value.GetArrayLength() == 3 && StructuredMetadata(value[2], metadata) is { } metadataError)
            {
                return metadataError;
            }
            var text = value[0].GetString()!;
            if (!Digits().IsMatch(text) || !long.TryParse(text, out var ns))
            {
                return $"timestamp '{text}' is not integer nanoseconds";
            }
            var time = DateTimeOffset.UnixEpoch.AddTicks(ns / 100);
            if (time < now - MaxAge || time > now + MaxAhead)
            {
                return $"timestamp {text} ({time:O}) is outside Loki's accepted window";
            }
            if (ns < previous)
            {
                return $"entries of stream {labelsJson} are not in time order ({ns} after {previous})";
            }
            previous = ns;
            var line = value[1].GetString()!;
            if (line.Length == 0)
            {
                return "empty log line";
            }
            entries.Add(new LokiEntry(labels, ns, line, metadata));
        }
        return null;
    }

    private static string? StructuredMetadata(JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return $"structured metadata must be an object, not {element.ValueKind}";
        }
        foreach (var pair in element.EnumerateObject())
        {
            if (!LabelName().IsMatch(pair.Name))
            {
                return $"invalid structured metadata name '{pair.Name}'";
            }
            if (pair.Value.ValueKind != JsonValueKind.String)
            {
                return $"structured metadata '{pair.Name}' needs a string value, not {pair.Value.ValueKind}";
            }
            if (!metadata.TryAdd(pair.Name, pair.Value.GetString()!))
            {
                return $"duplicate structured metadata name '{pair.Name}'";
            }
        }
        return null;
    }

    /// <summary>A stream's identity, as LogQL writes it: {a="1", b="2"} with names sorted.</summary>
    private static string Selector(IReadOnlyDictionary<string, string> labels) =>
        "{" + string.Join(", ", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Digits();
}

/// <summary>How the receiver answers one request: after Delay, Status (with Retry-After) or, when null, normally.</summary>
internal sealed record LokiFault(int? Status, TimeSpan Delay = default, TimeSpan? RetryAfter = null)
{
    public static LokiFault Fail(int status, TimeSpan? retryAfter = null) => new(status, default, retryAfter);

    public static LokiFault Slow(TimeSpan delay) => new(null, delay);
}

/// <param name="Metadata">The entry's structured metadata; empty when it had none.</param>
internal sealed record LokiEntry(IReadOnlyDictionary<string, string> Labels, long UnixNanoseconds, string Line,
    IReadOnlyDictionary<string, string> Metadata);

/// <param name="ReceivedAt">Stopwatch timestamp of arrival.</param>
internal sealed record LokiRequest(long ReceivedAt, int Status, string? Tenant, string? Authorization, string ContentEncoding,
    int Entries, string? Error);
