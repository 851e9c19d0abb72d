using System.Net;
using Serilog;

namespace WriteTracer.Api;

/// <summary>
/// The checks every request passes before a handler runs, and the last word on any
/// failure inside one, so that even an unexpected error answers in the API's JSON. It
/// identifies the caller from the kernel (<see cref="CallerIdentity"/>) for the handlers, and
/// writes the audit trail: one line per request with the caller, the request and the decision.
/// </summary>
/// <param name="token">The bearer token every request must present; null when none is required.</param>
/// <param name="loopbackOnly">
/// The TCP listener is on loopback: only a Host naming localhost or a loopback address is
/// accepted, which stops a web page from reaching the API through DNS rebinding.
/// </param>
/// <param name="identity">Who the caller is, from the kernel.</param>
internal sealed class AccessGuard(BearerToken? token, bool loopbackOnly, CallerIdentity identity)
{
    /// <summary>Where a request's decision waits for its audit line.</summary>
    private const string DecisionKey = "write-tracer.decision";

    /// <summary>The caller of a request that passed the guard.</summary>
    public static Caller CallerOf(HttpContext context) => context.Features.Get<Caller>() ?? throw new InvalidOperationException("the request did not pass the access guard");

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await GuardAsync(context, next);
        }
        finally
        {
            Audit(context);
        }
    }

    /// <summary>
    /// The decision a handler's result carries (its message or error), for the audit line:
    /// an endpoint filter, so every route reports what it decided without saying so itself.
    /// </summary>
    public static async ValueTask<object?> NoteDecisionAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var result = await next(invocation);
        var inner = result;
        while (inner is INestedHttpResult nested)
        {
            inner = nested.Result;
        }
        var decision = (inner as IValueHttpResult)?.Value switch
        {
            ErrorResponse error => error.Error,
            RegisteredResponse registered => registered.Message,
            CgroupRegisteredResponse registered => registered.Message,
            MessageResponse message => message.Message,
            _ => null,
        };
        if (decision is not null)
        {
            invocation.HttpContext.Items[DecisionKey] = decision;
        }
        return result;
    }

    private async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        // Error sentences echo request text; no browser may read a response as anything but JSON.
        context.Response.Headers.XContentTypeOptions = "nosniff";
        var tokenHolder = token is not null && token.IsPresentedIn(context.Request.Headers.Authorization);
        context.Features.Set(identity.Identify(context, tokenHolder));
        // Unix-socket connections have no IP address: no Host to check.
        var overTcp = context.Connection.LocalIpAddress is not null;
        if (loopbackOnly && overTcp && !IsLoopbackHost(context.Request.Host.Host))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                $"Host '{Shorten(context.Request.Host.Value)}' is not accepted: the API listens on loopback, so the Host must be localhost or a loopback address");
            return;
        }
        if (token is not null && !tokenHolder)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized,
                "this API requires 'Authorization: Bearer TOKEN' with the token of --api-token-file");
            return;
        }
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, e.StatusCode, $"bad request: {e.Message}");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client went away mid-request (a reset, an aborted read): nobody to answer.
            Log.Debug("REST {Method} {Path}: the client went away ({Reason})", context.Request.Method, context.Request.Path, e.Message);
            context.Abort();
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            Log.Error(e, "REST {Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, $"internal error: {e.Message}");
        }
    }

    /// <summary>
    /// The audit line: info for what changes the registry (POST, DELETE) and for every
    /// refusal, debug for reads that succeed (a health probe would flood the log).
    /// </summary>
    private static void Audit(HttpContext context)
    {
        var request = context.Request;
        var status = context.Response.StatusCode;
        var level = status >= 400 || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            ? Serilog.Events.LogEventLevel.Information
            : Serilog.Events.LogEventLevel.Debug;
        Log.Write(level, "audit: {Caller}: {Method} {Path} → {Status}{Decision}",
            context.Features.Get<Caller>()?.ToString() ?? "unidentified caller", request.Method, Shorten(request.Path.Value), status,
            context.Items[DecisionKey] is string decision ? ": " + decision : "");
    }

    public static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Items[DecisionKey] = message;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorResponse(message), ApiJsonContext.Relaxed.ErrorResponse);
    }

    /// <summary>Request text echoed in an error, cut so a huge path or header does not come back whole.</summary>
    public static string Shorten(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..80] + "…";

    private static bool IsLoopbackHost(string host) =>
        host.Length == 0 // HTTP/1.0 without Host: no browser sends that
        || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
