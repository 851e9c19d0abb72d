using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using WriteTracer.Tracking;

namespace WriteTracer.Api;

/// <summary>The endpoints of the REST API (DESIGN.md, "REST API") over the registries of traced processes and cgroups.</summary>
internal sealed class ApiHandlers(PidManager pids, CgroupRegistry cgroups)
{
    /// <summary>Larger POST bodies get 413; <c>{"pid": N}</c> needs a few bytes, a cgroup path rarely a few hundred.</summary>
    public const int MaxBodyBytes = 4096;

    private const string Starting = "the tracer is starting: its BPF program is loaded but no events are read yet";
    private volatile string? _unavailable = Starting;

    /// <summary>Events are being read: /healthz answers 200.</summary>
    public void MarkReady() => _unavailable = null;

    /// <summary>The tracer is shutting down: /healthz answers 503.</summary>
    public void MarkStopping() => _unavailable = "the tracer is shutting down";

    public async Task<Results<Created<RegisteredResponse>, JsonHttpResult<ErrorResponse>>> RegisterAsync(HttpRequest request)
    {
        var (body, refusal) = await ReadJsonBodyAsync(request, """{"pid": N}""");
        if (refusal is not null)
        {
            return refusal;
        }
        if (!RegisterRequest.TryParse(body, out var registerRequest, out var error))
        {
            return Error(StatusCodes.Status400BadRequest, error);
        }
        var registration = pids.Register(registerRequest.Pid);
        var message = registration.Describe();
        return registration.Status switch
        {
            RegistrationStatus.Registered => TypedResults.Created(
                $"/pids/{registration.Pid}", new RegisteredResponse(registration.Pid, registration.Root!.ThreadCount, message)),
            RegistrationStatus.InvalidPid or RegistrationStatus.OutOfRange or RegistrationStatus.Self or RegistrationStatus.Thread =>
                Error(StatusCodes.Status400BadRequest, message),
            RegistrationStatus.NotFound => Error(StatusCodes.Status404NotFound, message),
            RegistrationStatus.AlreadyRegistered or RegistrationStatus.AlreadyTracked or RegistrationStatus.InCgroup =>
                Error(StatusCodes.Status409Conflict, message),
            RegistrationStatus.MapFull => Error(StatusCodes.Status507InsufficientStorage, message),
            _ => throw new InvalidOperationException($"unexpected registration status {registration.Status}"),
        };
    }

    public Results<Ok<MessageResponse>, JsonHttpResult<ErrorResponse>> Unregister(string pid)
    {
        if (!TryParsePid(pid, out var number))
        {
            return NotAPid(pid);
        }
        var root = pids.Unregister(number);
        return root is null
            ? NotRegistered(number)
            : TypedResults.Ok(new MessageResponse($"stopped tracking process {number} ({root.Comm}) and its descendants"));
    }

    public Ok<ProcessListResponse> List()
    {
        var roots = pids.Roots();
        return TypedResults.Ok(new ProcessListResponse([.. roots.Select(ProcessResponse.From)], roots.Count));
    }

    public Results<Ok<ProcessResponse>, JsonHttpResult<ErrorResponse>> Get(string pid)
    {
        if (!TryParsePid(pid, out var number))
        {
            return NotAPid(pid);
        }
        return pids.Find(number) is { } root ? TypedResults.Ok(ProcessResponse.From(root)) : NotRegistered(number);
    }

    public async Task<Results<Created<CgroupRegisteredResponse>, JsonHttpResult<ErrorResponse>>> RegisterCgroupAsync(HttpRequest request)
    {
        var (body, refusal) = await ReadJsonBodyAsync(request, """{"path": "PATH"}""");
        if (refusal is not null)
        {
            return refusal;
        }
        if (!CgroupRequest.TryParse(body, out var cgroupRequest, out var error))
        {
            return Error(StatusCodes.Status400BadRequest, error);
        }
        var registration = cgroups.Register(cgroupRequest.Path);
        var message = registration.Describe();
        return registration.Status switch
        {
            CgroupRegistrationStatus.Registered => TypedResults.Created($"/cgroups/{registration.Cgroup!.Id}",
                new CgroupRegisteredResponse(registration.Cgroup.Name, registration.Cgroup.Id, registration.Cgroup.ProcessCount, message)),
            CgroupRegistrationStatus.Invalid => Error(StatusCodes.Status400BadRequest, message),
            CgroupRegistrationStatus.Forbidden => Error(StatusCodes.Status403Forbidden, message),
            CgroupRegistrationStatus.NotFound => Error(StatusCodes.Status404NotFound, message),
            CgroupRegistrationStatus.AlreadyRegistered or CgroupRegistrationStatus.Covered => Error(StatusCodes.Status409Conflict, message),
            CgroupRegistrationStatus.MapFull => Error(StatusCodes.Status507InsufficientStorage, message),
            _ => throw new InvalidOperationException($"unexpected registration status {registration.Status}"),
        };
    }

    public Ok<CgroupListResponse> ListCgroups()
    {
        var registered = cgroups.Cgroups();
        return TypedResults.Ok(new CgroupListResponse([.. registered.Select(CgroupResponse.From)], registered.Count));
    }

    /// <summary>DELETE /cgroups?path=PATH: the registered cgroup that path names.</summary>
    public Results<Ok<MessageResponse>, JsonHttpResult<ErrorResponse>> UnregisterCgroupByPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return Error(StatusCodes.Status400BadRequest, "name the cgroup: DELETE /cgroups?path=PATH or DELETE /cgroups/ID");
        }
        return cgroups.Find(path) is { } registered
            ? UnregisterCgroup(registered.Id)
            : Error(StatusCodes.Status404NotFound, $"cgroup {AccessGuard.Shorten(path)} is not registered");
    }

    /// <summary>DELETE /cgroups/{id}: by the cgroup id GET /cgroups shows.</summary>
    public Results<Ok<MessageResponse>, JsonHttpResult<ErrorResponse>> UnregisterCgroupById(string id)
    {
        if (!ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return Error(StatusCodes.Status400BadRequest, $"'{AccessGuard.Shorten(id)}' is not a cgroup id (a number GET /cgroups shows)");
        }
        return UnregisterCgroup(number);
    }

    public Results<Ok<HealthResponse>, JsonHttpResult<ErrorResponse>> Health() =>
        _unavailable is { } reason ? Error(StatusCodes.Status503ServiceUnavailable, reason) : TypedResults.Ok(new HealthResponse("ok"));

    private Results<Ok<MessageResponse>, JsonHttpResult<ErrorResponse>> UnregisterCgroup(ulong id) => cgroups.Unregister(id) is { } removed
        ? TypedResults.Ok(new MessageResponse($"stopped tracking cgroup {removed.Name} (id {removed.Id})"))
        : Error(StatusCodes.Status404NotFound, $"no registered cgroup has id {id}");

    /// <summary>The body of a JSON POST, or the refusal to answer instead (415, 413).</summary>
    private static async Task<(ReadOnlyMemory<byte> Body, JsonHttpResult<ErrorResponse>? Refusal)> ReadJsonBodyAsync(HttpRequest request, string shape)
    {
        if (!IsJson(request.ContentType))
        {
            return (default, Error(StatusCodes.Status415UnsupportedMediaType, request.ContentType is null
                ? $"the body must be JSON sent with 'Content-Type: application/json' (curl: --json '{shape}')"
                : $"Content-Type '{AccessGuard.Shorten(request.ContentType)}' is not application/json (UTF-8)"));
        }
        var body = await ReadBodyAsync(request);
        return body is null
            ? (default, Error(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes} bytes"))
            : (body.Value, null);
    }

    private static JsonHttpResult<ErrorResponse> Error(int status, string message) =>
        TypedResults.Json(new ErrorResponse(message), ApiJsonContext.Relaxed.ErrorResponse, statusCode: status);

    private static JsonHttpResult<ErrorResponse> NotAPid(string text) =>
        Error(StatusCodes.Status400BadRequest, $"'{AccessGuard.Shorten(text)}' is not a process id (a positive integer)");

    private JsonHttpResult<ErrorResponse> NotRegistered(int pid) => Error(StatusCodes.Status404NotFound, pids.RootOf(pid) switch
    {
        { } cgroup when CgroupNames.IsCgroupRegistration(cgroup) =>
            $"process {pid} is not registered: it is traced as a member of registered cgroup {cgroups.Names.NameOf(cgroup)}",
        { } root => $"process {pid} is not registered: it is traced as a descendant of registered process {root}",
        null => $"process {pid} is not registered",
    });

    private static bool TryParsePid(string text, out int pid) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0;

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body, or null when it exceeds <see cref="MaxBodyBytes"/>: never more than that is read.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }
        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted)) > 0)
        {
            length += read;
        }
        return length > MaxBodyBytes ? null : buffer.AsMemory(0, length);
    }
}
