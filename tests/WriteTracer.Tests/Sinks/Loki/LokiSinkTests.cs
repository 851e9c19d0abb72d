using System.IO.Compression;
using System.Text.Json;
using WriteTracer.Events;
using WriteTracer.Sinks.Loki;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Sinks.Loki;

public class LokiSinkTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly Uri Endpoint = new("http://loki.example/loki/api/v1/push");

    [Fact]
    public void Retried_pushes_deliver_every_event_once_accepted()
    {
        var handler = new FakeHttpHandler(i => i < 2 ? FakeHttpHandler.Status(503, "", TimeSpan.Zero) : FakeHttpHandler.Status(204));
        using var sink = Start(handler, TimeSpan.FromMinutes(1));

        Offer(sink, 10);
        sink.Complete(Deadline);

        Assert.Equal(10, sink.Delivered);
        Assert.Equal(0, sink.Dropped);
        Assert.Equal((1, 2, 0), (sink.PushesAccepted, sink.PushesRetried, sink.PushesFailed));
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal(handler.Requests[0].Body, r.Body));
    }

    [Fact]
    public void A_push_that_keeps_failing_is_given_up_after_the_bounded_time_and_counted()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Status(500, "", TimeSpan.FromMilliseconds(20)));
        using var sink = Start(handler, giveUpAfter: TimeSpan.FromMilliseconds(300));

        Offer(sink, 7);
        sink.Complete(Deadline);

        Assert.Equal(0, sink.Delivered);
        Assert.Equal(7, sink.Dropped);
        Assert.Equal(1, sink.PushesFailed);
        Assert.Equal(handler.Requests.Count, sink.PushesRetried);
    }

    [Fact]
    public void A_refused_push_is_dropped_without_retrying()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Status(400, "stream has 16 labels"));
        using var sink = Start(handler, TimeSpan.FromMinutes(1));

        Offer(sink, 5);
        sink.Complete(Deadline);

        Assert.Equal((0L, 5L), (sink.Delivered, sink.Dropped));
        Assert.Equal((0, 0, 1), (sink.PushesAccepted, sink.PushesRetried, sink.PushesFailed));
        Assert.Single(handler.Requests);
    }

    [Fact]
    public void At_the_flush_deadline_a_failing_push_is_cut_off_and_every_event_is_accounted_for()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Status(503));
        using var sink = Start(handler, TimeSpan.FromMinutes(5));

        Offer(sink, 3);
        Offer(sink, 4);
        sink.Complete(TimeSpan.FromSeconds(1));

        // Accounted before Complete returned. Every attempt was answered (503): nothing is unconfirmed.
        Assert.Equal((0L, 7L, 0L), (sink.Delivered, sink.Dropped, sink.Unconfirmed));
        Assert.Equal((1, 0), (sink.PushesFailed, sink.PushesUnconfirmed));
    }

    [Fact]
    public void A_push_never_answered_by_the_shutdown_timeout_is_unconfirmed_not_dropped()
    {
        var handler = new FakeHttpHandler((_, cancel) => FakeHttpHandler.Never(cancel));
        using var sink = Start(handler, TimeSpan.FromMinutes(5));

        Offer(sink, 7);
        Poll.Until(() => handler.Requests.Count == 1, "the push sent");
        sink.Complete(TimeSpan.FromMilliseconds(300));

        Assert.Equal((0L, 0L, 7L, 0L), (sink.Delivered, sink.Dropped, sink.Unconfirmed, sink.InFlight));
        Assert.Equal((0, 0, 1), (sink.PushesAccepted, sink.PushesFailed, sink.PushesUnconfirmed));
    }

    [Fact]
    public void A_push_cut_off_before_its_body_went_out_is_dropped_not_unconfirmed()
    {
        var handler = new ConnectingForever();
        var sink = new LokiSink(new LokiPushClient(Endpoint, [], null, "box", handler), 1000, TimeSpan.FromMinutes(5));
        sink.Start();

        Offer(sink, 5);
        Poll.Until(() => handler.Attempts == 1, "the push attempted");
        sink.Complete(TimeSpan.FromMilliseconds(300));

        Assert.Equal((0L, 5L, 0L), (sink.Delivered, sink.Dropped, sink.Unconfirmed));
        Assert.Equal((1, 0), (sink.PushesFailed, sink.PushesUnconfirmed));
        sink.Dispose();
    }

    [Fact]
    public async Task Stopping_now_ends_the_wait_for_an_unanswered_push_at_once()
    {
        var handler = new FakeHttpHandler((_, cancel) => FakeHttpHandler.Never(cancel));
        using var sink = Start(handler, TimeSpan.FromMinutes(5));
        using var stopNow = new CancellationTokenSource();

        Offer(sink, 4);
        Poll.Until(() => handler.Requests.Count == 1, "the push sent");
        var completion = Task.Run(() => sink.Complete(TimeSpan.FromHours(1), stopNow.Token));
        stopNow.Cancel();

        Assert.Same(completion, await Task.WhenAny(completion, Task.Delay(Poll.Limit))); // else Complete still waits after stopNow
        Assert.Equal((0L, 0L, 4L), (sink.Delivered, sink.Dropped, sink.Unconfirmed));
    }

    [Fact]
    public void A_receiver_refusing_structured_metadata_gets_the_same_entries_without_it_once()
    {
        var handler = new FakeHttpHandler(i => i == 0
            ? FakeHttpHandler.Status(400, "stream '{job=\"write-tracer\"}' includes structured metadata, but this feature is disallowed.")
            : FakeHttpHandler.Status(204));
        using var sink = Start(handler, TimeSpan.FromMinutes(1));

        Offer(sink, 6);
        Poll.Until(() => sink.Delivered == 6, "the push delivered");
        Offer(sink, 2);
        sink.Complete(Deadline);

        Assert.Equal((8L, 0L, 0L), (sink.Delivered, sink.Dropped, sink.Unconfirmed));
        Assert.Equal((2, 1, 0), (sink.PushesAccepted, sink.PushesRetried, sink.PushesFailed));
        var entries = handler.Requests.Select(r => Entries(r.Body)).ToList();
        Assert.Equal([6, 6, 2], entries.Select(e => e.Count));
        Assert.All(entries[0], e => Assert.Equal(3, e.GetArrayLength()));
        Assert.All(entries.Skip(1).SelectMany(e => e), e => Assert.Equal(2, e.GetArrayLength()));
        Assert.Equal(entries[0].Select(e => e[1].GetString()), entries[1].Select(e => e[1].GetString()));
    }

    [Fact]
    public void Pushes_hold_at_most_1_MiB_of_lines_and_carry_every_event_once()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Status(204));
        using var sink = Start(handler, TimeSpan.FromMinutes(1), capacityEvents: 10_000);
        var pool = new EventBatchPool(bufferBytes: 256 * 1024, maxEvents: 1024);
        var line = new string('x', 1000);
        for (var b = 0; b < 12; b++)
        {
            var batch = TestBatches.Rent(pool, Enumerable.Range(0, 200).Select(i => $"{{\"seq\":{b * 200 + i},\"pad\":\"{line}\"}}"));
            sink.Offer(batch);
            batch.Release();
        }
        sink.Complete(Deadline);

        Assert.Equal(2400, sink.Delivered);
        Assert.True(handler.Requests.Count >= 3, $"{handler.Requests.Count} pushes for 2.4 MB");
        var seqs = new List<int>();
        foreach (var request in handler.Requests)
        {
            using var body = JsonDocument.Parse(new GZipStream(new MemoryStream(request.Body), CompressionMode.Decompress));
            var lines = body.RootElement.GetProperty("streams").EnumerateArray()
                .SelectMany(s => s.GetProperty("values").EnumerateArray()).Select(v => v[1].GetString()!).ToList();
            Assert.True(lines.Sum(l => l.Length + 1) <= LokiSink.MaxBatchBytes);
            seqs.AddRange(lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt32()));
        }
        Assert.Equal(Enumerable.Range(0, 2400), seqs);
    }

    [Fact]
    public void Events_are_pushed_within_a_second_without_waiting_for_more()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Status(204));
        using var sink = Start(handler, TimeSpan.FromMinutes(1));

        Offer(sink, 2);
        Poll.Until(() => sink.Delivered == 2, "the batch pushed on its own");

        Assert.Single(handler.Requests);
        sink.Complete(Deadline);
    }

    /// <summary>A connection that never opens: the body is never sent.</summary>
    private sealed class ConnectingForever : HttpMessageHandler
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            cancellationToken.WaitHandle.WaitOne();
            throw new OperationCanceledException(cancellationToken);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));
    }

    private static List<JsonElement> Entries(byte[] gzip)
    {
        using var body = JsonDocument.Parse(new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress));
        return [.. body.RootElement.GetProperty("streams").EnumerateArray().SelectMany(s => s.GetProperty("values").EnumerateArray()).Select(v => v.Clone())];
    }

    private static LokiSink Start(FakeHttpHandler handler, TimeSpan giveUpAfter, long capacityEvents = 1000)
    {
        var sink = new LokiSink(new LokiPushClient(Endpoint, [], null, "box", handler), capacityEvents, giveUpAfter);
        sink.Start();
        return sink;
    }

    private static void Offer(LokiSink sink, int events)
    {
        var batch = LokiPushClientTests.Batch([.. Enumerable.Range(0, events).Select(i => (1u, 1_000L + i, $"{{\"i\":{i}}}"))]);
        sink.Offer(batch);
        batch.Release();
    }
}
