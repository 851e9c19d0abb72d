using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using WriteTracer.Events;
using WriteTracer.Tracking;

namespace WriteTracer.Sinks.Loki;

/// <summary>
/// The one type that knows Loki's push API: the label rules, the JSON body
/// (<c>{"streams":[{"stream":{labels},"values":[["&lt;unix ns&gt;","&lt;line&gt;",{metadata}],…]}]}</c>, gzip),
/// the headers (tenant, basic auth from the URL's user info), and which responses
/// are worth a retry. Streams are labelled only with what has few values (job, host,
/// --loki-label), so a node running thousands of jobs stays one stream; what tells the
/// jobs apart (root_pid) travels as each entry's structured metadata (Loki 3.x), or, with
/// --loki-root-pid-label, as a label as before. Not thread-safe: one push at a time.
/// </summary>
internal sealed partial class LokiPushClient : IDisposable
{
    /// <summary>Loki's default limit of labels per stream (max_label_names_per_series).</summary>
    public const int MaxLabels = 15;
    public const int MaxLabelNameLength = 1024;
    public const int MaxLabelValueLength = 2048;
    public const string Job = "write-tracer";

    /// <summary>
    /// Labels the tracer sets itself, which --loki-label may not name: job and host on every
    /// stream, root_pid with --loki-root-pid-label (and as structured metadata otherwise).
    /// </summary>
    public static readonly IReadOnlyList<string> TracerLabels = ["job", "host", "root_pid"];

    public static int MaxExtraLabels => MaxLabels - TracerLabels.Count;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private const int MaxResponseTextBytes = 1024;
    /// <summary>Per stream, besides the labels: {"stream":{…,"root_pid":"4294967295"},"values":[…]},</summary>
    private const int StreamOverheadBytes = 64;
    /// <summary>Per entry, besides the escaped line: ["9223372036854775807","",{"root_pid":"4294967295"}],</summary>
    private const int EntryOverheadBytes = 64;

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly string? _tenant;
    /// <summary>The labels every stream shares, as JSON members: "job":"write-tracer","host":"…",…</summary>
    private readonly byte[] _sharedLabels;
    private readonly MemoryStream _body = new();
    private readonly EntryOrder _order;
    private readonly bool _rootPidLabel;
    /// <summary>The names of cgroup registrations, for their events' metadata.</summary>
    private readonly CgroupNames? _cgroupNames;
    private byte[] _json = [];

    /// <param name="endpoint">The push URL; user info, when present, becomes basic auth.</param>
    /// <param name="extraLabels">Validated with <see cref="LabelError"/>.</param>
    /// <param name="handler">The HTTP stack; tests substitute their own.</param>
    /// <param name="rootPidLabel">A stream per root_pid, labelled with it, instead of root_pid as structured metadata.</param>
    public LokiPushClient(Uri endpoint, IReadOnlyList<KeyValuePair<string, string>> extraLabels, string? tenant, string host,
        HttpMessageHandler? handler = null, bool rootPidLabel = false, CgroupNames? cgroupNames = null)
    {
        _cgroupNames = cgroupNames;
        _rootPidLabel = rootPidLabel;
        _order = new EntryOrder(byRootPid: rootPidLabel);
        SendsStructuredMetadata = !rootPidLabel;
        _endpoint = new UriBuilder(endpoint) { UserName = "", Password = "" }.Uri;
        _authorization = BasicAuthorization(endpoint);
        _tenant = tenant;
        _sharedLabels = EncodeLabels([new("job", Job), new("host", host), .. extraLabels]);
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            // A redirect would turn the POST into a GET: report it instead.
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("write-tracer", "1"));
    }

    /// <summary>The push URL without credentials, for logs.</summary>
    public Uri Endpoint => _endpoint;

    /// <summary>
    /// Whether entries carry structured metadata: true unless root_pid is a label, until a
    /// receiver refuses it (<see cref="RefusesStructuredMetadata"/>, <see cref="StopSendingStructuredMetadata"/>).
    /// </summary>
    public bool SendsStructuredMetadata { get; private set; }

    /// <summary>The gzip body <see cref="Encode"/> built last.</summary>
    public ReadOnlyMemory<byte> Body => _body.GetBuffer().AsMemory(0, (int)_body.Length);

    /// <summary>Why a --loki-label is unacceptable to Loki, or null when it is fine.</summary>
    public static string? LabelError(string name, string value)
    {
        if (!LabelName().IsMatch(name))
        {
            return $"'{name}' is not a label name (letters, digits and _, not starting with a digit)";
        }
        if (name.StartsWith("__", StringComparison.Ordinal))
        {
            return $"'{name}': label names starting with __ are reserved";
        }
        if (TracerLabels.Contains(name))
        {
            return $"'{name}' is a label the tracer sets itself";
        }
        if (name.Length > MaxLabelNameLength)
        {
            return $"the label name '{name[..16]}…' is longer than {MaxLabelNameLength} characters";
        }
        if (value.Length == 0)
        {
            return $"the label '{name}' has an empty value";
        }
        if (value.Length > MaxLabelValueLength)
        {
            return $"the value of the label '{name}' is longer than {MaxLabelValueLength} characters";
        }
        return null;
    }

    /// <summary>Why a tenant id is unacceptable to Loki, or null when it is fine.</summary>
    public static string? TenantError(string tenant) =>
        TenantId().IsMatch(tenant) && tenant is not "." and not ".."
            ? null
            : $"'{tenant}' is not a tenant id (1 to 150 of a-z A-Z 0-9 ! - _ . * ' ( ), not . or ..)";

    /// <summary>
    /// A refusal that names structured metadata: Loki before 3.0, an index schema before v13, or
    /// allow_structured_metadata turned off. Every entry of a push carries metadata, so such a
    /// refusal means none of the push was stored, and it can be sent again without it.
    /// </summary>
    public static bool RefusesStructuredMetadata(LokiPushResult result) =>
        result.Outcome == LokiPushOutcome.Rejected && result.Reason.Contains("structured metadata", StringComparison.OrdinalIgnoreCase);

    /// <summary>From now on, entries go without metadata (their lines hold root_pid anyway).</summary>
    public void StopSendingStructuredMetadata() => SendsStructuredMetadata = false;

    /// <summary>
    /// Encodes every event of the batch as one gzip push body, its entries in time order: one
    /// stream, or with root_pid as a label a stream per root_pid.
    /// </summary>
    public void Encode(EventBatch events)
    {
        var streams = _order.Sort(events);
        var order = _order.Indices;
        var worstCase = 16 + streams * (StreamOverheadBytes + _sharedLabels.Length)
            + events.Count * EntryOverheadBytes + 2 * events.Length // escaping a JSON line at most doubles it
            + (_cgroupNames is null ? 0 : CgroupMetadataBytes(events));
        if (_json.Length < worstCase)
        {
            _json = new byte[worstCase];
        }

        var w = new Utf8Writer(_json);
        w.Raw("{\"streams\":["u8);
        for (var i = 0; i < events.Count;)
        {
            var rootPid = events.Entries[order[i]].RootPid;
            if (i > 0)
            {
                w.Byte((byte)',');
            }
            w.Raw("{\"stream\":{"u8);
            w.Raw(_sharedLabels);
            // A cgroup registration's events name their cgroup in the line and the metadata; a label per cgroup would multiply streams.
            if (_rootPidLabel && !CgroupNames.IsCgroupRegistration(rootPid))
            {
                w.Raw(",\"root_pid\":\""u8);
                w.Number(rootPid);
                w.Byte((byte)'"');
            }
            w.Raw("},\"values\":["u8);
            for (var first = i; i < events.Count && (!_rootPidLabel || events.Entries[order[i]].RootPid == rootPid); i++)
            {
                if (i > first)
                {
                    w.Byte((byte)',');
                }
                ref readonly var entry = ref events.Entries[order[i]];
                w.Raw("[\""u8);
                w.Number(entry.UnixNanoseconds);
                w.Raw("\",\""u8);
                w.JsonEscaped(events.Line(order[i]));
                w.Byte((byte)'"');
                if (SendsStructuredMetadata)
                {
                    w.Byte((byte)',');
                    WriteStructuredMetadata(ref w, entry);
                }
                w.Byte((byte)']');
            }
            w.Raw("]}"u8);
        }
        w.Raw("]}"u8);

        _body.SetLength(0);
        using var gzip = new GZipStream(_body, CompressionLevel.Fastest, leaveOpen: true);
        gzip.Write(_json, 0, w.Position);
    }

    /// <summary>
    /// Whether the last <see cref="Send"/> began sending its body: from then on, a push that gets
    /// no answer may have been stored.
    /// </summary>
    public bool LastBodySent { get; private set; }

    /// <summary>Sends the body <see cref="Encode"/> built; cancel aborts it (OperationCanceledException).</summary>
    public LokiPushResult Send(CancellationToken cancel)
    {
        var content = new PushContent(_body.GetBuffer(), (int)_body.Length);
        LastBodySent = false;
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = content };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Authorization = _authorization;
        if (_tenant is not null)
        {
            request.Headers.Add("X-Scope-OrgID", _tenant);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var response = Send(request, content, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                return LokiPushResult.Accepted;
            }
            var status = (int)response.StatusCode;
            var reason = $"{status} {response.ReasonPhrase}: {ResponseText(response, timeout.Token)}";
            return status == (int)HttpStatusCode.TooManyRequests || status >= 500
                ? LokiPushResult.Retry(reason, RetryAfter(response))
                : LokiPushResult.Rejected(reason);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            var reason = $"no response within {RequestTimeout.TotalSeconds:0} s";
            return content.Sent ? LokiPushResult.NoAnswer(reason) : LokiPushResult.Retry(reason);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return LokiPushResult.Retry(e.InnerException?.Message ?? e.Message);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _body.Dispose();
    }

    private HttpResponseMessage Send(HttpRequestMessage request, PushContent content, CancellationToken cancel)
    {
        try
        {
            return _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        }
        finally
        {
            LastBodySent = content.Sent;
        }
    }

    /// <summary>The gzip body, noting when the HTTP stack starts writing it to the connection.</summary>
    private sealed class PushContent(byte[] buffer, int count) : ByteArrayContent(buffer, 0, count)
    {
        public bool Sent { get; private set; }

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            Sent = true;
            base.SerializeToStream(stream, context, cancellationToken);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            Sent = true;
            return base.SerializeToStreamAsync(stream, context, cancellationToken);
        }
    }

    /// <summary>
    /// An entry's structured metadata, from what the event entry says about where the write
    /// came from: <c>{"root_pid":"1234"}</c>. Values are strings, as Loki requires.
    /// </summary>
    /// <summary>root_pid, or for a cgroup registration's events the cgroup (as the line names it).</summary>
    private void WriteStructuredMetadata(ref Utf8Writer w, in EventEntry entry)
    {
        if (_cgroupNames is not null && CgroupNames.IsCgroupRegistration(entry.RootPid))
        {
            w.Raw("{\"cgroup\":\""u8);
            w.JsonEscaped(_cgroupNames.Utf8Of(entry.RootPid));
            w.Raw("\"}"u8);
            return;
        }
        w.Raw("{\"root_pid\":\""u8);
        w.Number(entry.RootPid);
        w.Raw("\"}"u8);
    }

    /// <summary>The most the cgroup names of a batch's entries take in their metadata (escaped, at most 6 bytes a byte).</summary>
    private int CgroupMetadataBytes(EventBatch events)
    {
        var bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            if (CgroupNames.IsCgroupRegistration(events.Entries[i].RootPid))
            {
                bytes += 6 * _cgroupNames!.Utf8Of(events.Entries[i].RootPid).Length;
            }
        }
        return bytes;
    }

    private static AuthenticationHeaderValue? BasicAuthorization(Uri endpoint)
    {
        if (endpoint.UserInfo.Length == 0)
        {
            return null;
        }
        var colon = endpoint.UserInfo.IndexOf(':');
        var user = Uri.UnescapeDataString(colon < 0 ? endpoint.UserInfo : endpoint.UserInfo[..colon]);
        var password = colon < 0 ? "" : Uri.UnescapeDataString(endpoint.UserInfo[(colon + 1)..]);
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    private static byte[] EncodeLabels(IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        var utf8 = labels.Select(l => (Name: Encoding.UTF8.GetBytes(l.Key), Value: Encoding.UTF8.GetBytes(l.Value))).ToList();
        var buffer = new byte[utf8.Sum(l => 6 * (l.Name.Length + l.Value.Length) + 6)];
        var w = new Utf8Writer(buffer);
        foreach (var (name, value) in utf8)
        {
            if (w.Position > 0)
            {
                w.Byte((byte)',');
            }
            w.Byte((byte)'"');
            w.JsonEscaped(name);
            w.Raw("\":\""u8);
            w.JsonEscaped(value);
            w.Byte((byte)'"');
        }
        return buffer[..w.Position];
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => TimeSpan.FromTicks(Math.Max(0, (date - DateTimeOffset.UtcNow).Ticks)),
        _ => null,
    };

    private static string ResponseText(HttpResponseMessage response, CancellationToken cancel)
    {
        try
        {
            using var stream = response.Content.ReadAsStream(cancel);
            var buffer = new byte[MaxResponseTextBytes];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
            }
            return Encoding.UTF8.GetString(buffer, 0, length).Trim();
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return "(no response text)";
        }
    }

    /// <summary>Prometheus' label name rule, which Loki applies.</summary>
    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^[a-zA-Z0-9!\-_.*'()]{1,150}$")]
    private static partial Regex TenantId();

    /// <summary>Orders a batch's events by stream (root_pid, when it is a label), then time, then arrival.</summary>
    private sealed class EntryOrder(bool byRootPid) : IComparer<int>
    {
        private EventEntry[] _entries = [];

        public int[] Indices { get; private set; } = [];

        /// <summary>Sorts the indices of the batch's events; returns how many streams there are.</summary>
        public int Sort(EventBatch events)
        {
            if (Indices.Length < events.Count)
            {
                Indices = new int[events.Entries.Length];
            }
            for (var i = 0; i < events.Count; i++)
            {
                Indices[i] = i;
            }
            _entries = events.Entries;
            Array.Sort(Indices, 0, events.Count, this);
            var streams = events.Count > 0 ? 1 : 0;
            for (var i = 1; byRootPid && i < events.Count; i++)
            {
                if (_entries[Indices[i]].RootPid != _entries[Indices[i - 1]].RootPid)
                {
                    streams++;
                }
            }
            return streams;
        }

        public int Compare(int x, int y)
        {
            ref readonly var a = ref _entries[x];
            ref readonly var b = ref _entries[y];
            var byRoot = byRootPid ? a.RootPid.CompareTo(b.RootPid) : 0;
            if (byRoot != 0)
            {
                return byRoot;
            }
            var byTime = a.UnixNanoseconds.CompareTo(b.UnixNanoseconds);
            return byTime != 0 ? byTime : x.CompareTo(y);
        }
    }
}
