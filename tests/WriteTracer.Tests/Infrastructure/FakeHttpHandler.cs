using System.Net.Http.Headers;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>An HTTP stack that answers from a function and records what was sent (sync and async alike).</summary>
/// <param name="respond">Given the request's index and its cancellation token.</param>
internal sealed class FakeHttpHandler(Func<int, CancellationToken, HttpResponseMessage> respond) : HttpMessageHandler
{
    private readonly List<SentRequest> _requests = [];

    public FakeHttpHandler(Func<int, HttpResponseMessage> respond) : this((index, _) => respond(index))
    {
    }

    /// <summary>A receiver that never answers: the request waits until it is cancelled.</summary>
    public static HttpResponseMessage Never(CancellationToken cancel)
    {
        cancel.WaitHandle.WaitOne();
        throw new OperationCanceledException(cancel);
    }

    public IReadOnlyList<SentRequest> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    public static HttpResponseMessage Status(int status, string text = "", TimeSpan? retryAfter = null)
    {
        var response = new HttpResponseMessage((System.Net.HttpStatusCode)status) { Content = new StringContent(text) };
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(delay);
        }
        return response;
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        // As the HTTP stack sends it: the content serializes itself to the connection.
        request.Content?.CopyTo(body, null, cancellationToken);
        int index;
        lock (_requests)
        {
            index = _requests.Count;
            _requests.Add(new SentRequest(request.Method, request.RequestUri!, request.Headers, request.Content?.Headers, body.ToArray()));
        }
        return respond(index, cancellationToken);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(Send(request, cancellationToken));
}

internal sealed record SentRequest(HttpMethod Method, Uri Uri, HttpRequestHeaders Headers, HttpContentHeaders? ContentHeaders, byte[] Body);
