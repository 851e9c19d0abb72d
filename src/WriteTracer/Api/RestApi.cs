using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using Serilog;
using WriteTracer.Cli;
using WriteTracer.Hosting;
using WriteTracer.Tracking;

namespace WriteTracer.Api;

/// <summary>
/// The REST API: its own Kestrel server inside the tracer process, on 127.0.0.1 unless
/// told otherwise, and/or on a Unix socket (owner-only unless --rest-socket-mode opens it).
/// Every caller is identified by the kernel and may trace only what <see cref="AccessPolicy"/>
/// allows. Built from nothing
/// (no configuration files, no environment variables), so what it listens on and
/// accepts is exactly what the command line says.
/// </summary>
internal sealed class RestApi : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(2);

    private readonly WebApplication _app;
    private readonly ApiHandlers _handlers;

    private RestApi(WebApplication app, ApiHandlers handlers)
    {
        _app = app;
        _handlers = handlers;
    }

    /// <summary>Starts listening; a busy port, a bad address or socket path or token file is a <see cref="StartupException"/>.</summary>
    public static async Task<RestApi> StartAsync(TracerOptions options, PidManager pids, CgroupRegistry cgroups)
    {
        var token = options.ApiTokenFile is null ? null : BearerToken.Load(options.ApiTokenFile);
        var policy = new AccessPolicy(new ProcFs(), Environment.ProcessId);
        var handlers = new ApiHandlers(pids, cgroups, policy);
        var app = Build(options, handlers, token, new CallerIdentity(new TcpSocketTable(), policy));
        await EmbeddedServer.StartAsync(app, e => DescribeBindFailure(options, e));
        var access = token is not null ? "bearer token required" : "no token; callers identified by the kernel";
        Log.Information("REST API listening on {Addresses} ({Access})", string.Join(", ", Addresses(options)), access);
        return new RestApi(app, handlers);
    }

    /// <inheritdoc cref="ApiHandlers.MarkReady"/>
    public void MarkReady() => _handlers.MarkReady();

    /// <summary>Stops taking requests; those in flight get a short grace period.</summary>
    public async Task StopAsync()
    {
        _handlers.MarkStopping();
        using var timeout = new CancellationTokenSource(StopTimeout);
        await _app.StopAsync(timeout.Token);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static WebApplication Build(TracerOptions options, ApiHandlers handlers, BearerToken? token, CallerIdentity identity)
    {
        var builder = EmbeddedServer.CreateBuilder();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = ApiJsonContext.Relaxed.Options.PropertyNamingPolicy;
            json.SerializerOptions.Encoder = ApiJsonContext.Relaxed.Options.Encoder;
            // The web default also reads numbers from strings; the handler never does, nor may the document say so.
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Relaxed);
        });
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "write-tracer REST API";
            document.Info.Description = "Registers processes whose write(2) calls write-tracer traces.";
            return Task.CompletedTask;
        }));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 16 * ApiHandlers.MaxBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxConcurrentConnections = 1024;
            if (options.RestPort > 0)
            {
                kestrel.Listen(options.RestAddress, options.RestPort, listen => listen.Protocols = HttpProtocols.Http1);
            }
            if (options.RestSocket is not null)
            {
                kestrel.ListenUnixSocket(options.RestSocket, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = endpoint => endpoint is UnixDomainSocketEndPoint unix
            ? UnixSocketListener.Bind(unix, options.RestSocketMode)
            : SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint));

        var app = builder.Build();
        app.Use(new AccessGuard(token, IPAddress.IsLoopback(options.RestAddress), identity).InvokeAsync);
        app.UseStatusCodePages(context => DescribeStatusAsync(context.HttpContext));
        MapRoutes(app, handlers, token is not null);
        return app;
    }

    private static void MapRoutes(WebApplication app, ApiHandlers handlers, bool tokenRequired)
    {
        var api = app.MapGroup("").WithTags("write-tracer").AddEndpointFilter(AccessGuard.NoteDecisionAsync);
        if (tokenRequired)
        {
            api.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(ErrorResponse), ["application/json"]));
        }
        api.MapPost("/pids", (Delegate)handlers.RegisterAsync)
            .WithSummary("Trace a process, its threads and all its descendants")
            // The body is parsed by the handler, which owns 415 too: declared for the document only.
            .AddOpenApiOperationTransformer(DescribeRegisterBodyAsync);
        api.MapPost("/pids/self", handlers.RegisterSelf)
            .WithSummary("Trace the calling process (the one that connected), its threads and descendants");
        api.MapPost("/pids/parent", handlers.RegisterParent)
            .WithSummary("Trace the calling process's parent (the shell of a script that runs curl), its threads and descendants");
        api.MapGet("/pids", handlers.List)
            .WithSummary("The registered processes");
        api.MapGet("/pids/{pid}", handlers.Get)
            .WithSummary("One registered process");
        api.MapDelete("/pids/{pid}", handlers.Unregister)
            .WithSummary("Stop tracing a registered process and all its descendants");
        api.MapPost("/cgroups", (Delegate)handlers.RegisterCgroupAsync)
            .WithSummary("Trace every process in a cgroup v2 subtree: those in it now and those that join it later")
            .AddOpenApiOperationTransformer(DescribeCgroupBodyAsync);
        api.MapGet("/cgroups", handlers.ListCgroups)
            .WithSummary("The registered cgroups");
        api.MapDelete("/cgroups", handlers.UnregisterCgroupByPath)
            .WithSummary("Stop tracing the registered cgroup ?path=PATH names");
        api.MapDelete("/cgroups/{id}", handlers.UnregisterCgroupById)
            .WithSummary("Stop tracing the registered cgroup with this id (GET /cgroups)");
        api.MapGet("/healthz", handlers.Health)
            .WithSummary("200 while the tracer reads events, 503 while it starts or stops");
        api.MapOpenApi("/openapi.json");
    }

    private static Task DescribeRegisterBodyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancel) =>
        DescribeBodyAsync<RegisterRequest>(operation, context, "{\"pid\": N}", cancel);

    private static Task DescribeCgroupBodyAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancel) =>
        DescribeBodyAsync<CgroupRequest>(operation, context,
            "{\"path\": \"PATH\"}, PATH absolute or relative to the cgroup v2 mount", cancel);

    private static async Task DescribeBodyAsync<TBody>(OpenApiOperation operation, OpenApiOperationTransformerContext context, string shape,
        CancellationToken cancel)
    {
        var schema = await context.GetOrCreateSchemaAsync(typeof(TBody), cancellationToken: cancel);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = $"{shape}, at most {ApiHandlers.MaxBodyBytes} bytes",
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
        };
    }

    /// <summary>The JSON error for what routing answers itself: no such route (404), wrong method (405).</summary>
    private static Task DescribeStatusAsync(HttpContext context)
    {
        var request = context.Request;
        var target = $"{request.Method} {AccessGuard.Shorten(request.Path.Value)}";
        var message = context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => $"no such endpoint: {target} (see /openapi.json)",
            StatusCodes.Status405MethodNotAllowed =>
                $"method {AccessGuard.Shorten(request.Method)} is not allowed on {AccessGuard.Shorten(request.Path.Value)}; allowed: {context.Response.Headers.Allow}",
            var status => $"{ReasonPhrases.GetReasonPhrase(status)}: {target}",
        };
        return AccessGuard.WriteErrorAsync(context, context.Response.StatusCode, message);
    }

    private static IEnumerable<string> Addresses(TracerOptions options)
    {
        if (options.RestPort > 0)
        {
            yield return $"http://{new IPEndPoint(options.RestAddress, options.RestPort)}";
        }
        if (options.RestSocket is not null)
        {
            yield return $"unix:{options.RestSocket}";
        }
    }

    private static string DescribeBindFailure(TracerOptions options, Exception e)
    {
        var endpoint = new IPEndPoint(options.RestAddress, options.RestPort);
        var socket = e as SocketException ?? e.InnerException as SocketException;
        if (e is AddressInUseException || e.InnerException is AddressInUseException || socket?.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return $"--rest-port {options.RestPort}: {endpoint} is already in use";
        }
        if (socket?.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            return $"--rest-address {options.RestAddress}: no interface of this host has that address";
        }
        return $"cannot start the REST API on {string.Join(", ", Addresses(options))}: {(socket ?? e).Message}";
    }
}
