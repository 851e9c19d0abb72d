using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using WriteTracer.Tracking;
using RegisterOutcome = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Created<WriteTracer.Api.RegisteredResponse>,
    Microsoft.AspNetCore.Http.HttpResults.BadRequest<WriteTracer.Api.ErrorResponse>,
    WriteTracer.Api.ErrorResult<WriteTracer.Api.ErrorStatus.Forbidden>,
    Microsoft.AspNetCore.Http.HttpResults.NotFound<WriteTracer.Api.ErrorResponse>,
    Microsoft.AspNetCore.Http.HttpResults.Conflict<WriteTracer.Api.ErrorResponse>,
    WriteTracer.Api.ErrorResult<WriteTracer.Api.ErrorStatus.InsufficientStorage>>;

namespace WriteTracer.Api;

/// <summary>The endpoints of the REST API (DESIGN.md, "REST API") over the registry of traced processes.</summary>
internal sealed class ApiHandlers(PidManager pids, AccessPolicy policy)
{
    /// <summary>Larger POST bodies get 413; <c>{"pid": N}</c> needs a few bytes.</summary>
    public const int MaxBodyBytes = 4096;

    private const string Starting = "the tracer is starting: its BPF program is loaded but no events are read yet";
    private volatile string? _unavailable = Starting;

    /// <summary>Events are being read: /healthz answers 200.</summary>
    public void MarkReady() => _unavailable = null;

    /// <summary>The tracer is shutting down: /healthz answers 503.</summary>
    public void MarkStopping() => _unavailable = "the tracer is shutting down";

    /// <summary>POST /pids: {"pid": N}, N in the caller's pid namespace.</summary>
    public async Task<Results<RegisterOutcome, ErrorResult<ErrorStatus.PayloadTooLarge>, ErrorResult<ErrorStatus.UnsupportedMediaType>>> RegisterAsync(HttpContext context)
    {
        var request = context.Request;
        if (!IsJson(request.ContentType))
        {
            return new ErrorResult<ErrorStatus.UnsupportedMediaType>(request.ContentType is null
                ? "the body must be JSON sent with 'Content-Type: application/json' (curl: --json '{\"pid\": N}')"
                : $"Content-Type '{AccessGuard.Shorten(request.ContentType)}' is not application/json (UTF-8)");
        }
        var body = await ReadBodyAsync(request);
        if (body is null)
        {
            return new ErrorResult<ErrorStatus.PayloadTooLarge>($"the body is larger than {MaxBodyBytes} bytes");
        }
        if (!RegisterRequest.TryParse(body.Value, out var registerRequest, out var error))
        {
            return (RegisterOutcome)BadRequest(error);
        }
        var caller = AccessGuard.CallerOf(context);
        var pid = registerRequest.Pid;
        // The pid means a process of the caller's own pid namespace (over TCP, where the tracer can find the caller).
        if (pid > 0 && ProcessOf(caller) is { } callerPid && policy.StatusOf(callerPid) is { } callerStatus && policy.InOtherNamespace(callerStatus))
        {
            if (policy.Translate(callerPid, callerStatus, pid) is not { } hostPid)
            {
                return (RegisterOutcome)NotFound($"no process {pid} in the caller's pid namespace ({policy.Proc.PidNamespace(callerPid) ?? "not readable"})");
            }
            return Register(caller, hostPid, pid);
        }
        return Register(caller, pid, null);
    }

    /// <summary>POST /pids/self: the calling process, as the kernel reports it.</summary>
    public RegisterOutcome RegisterSelf(HttpContext context) => RegisterCaller(AccessGuard.CallerOf(context), parent: false);

    /// <summary>POST /pids/parent: the calling process's parent (a job script's shell, for curl run from it).</summary>
    public RegisterOutcome RegisterParent(HttpContext context) => RegisterCaller(AccessGuard.CallerOf(context), parent: true);

    public Results<Ok<MessageResponse>, BadRequest<ErrorResponse>, ErrorResult<ErrorStatus.Forbidden>, NotFound<ErrorResponse>> Unregister(string pid, HttpContext context)
    {
        if (!TryParsePid(pid, out var number))
        {
            return NotAPid(pid);
        }
        if (pids.Find(number) is not { } registered)
        {
            return NotRegistered(number);
        }
        if (policy.RefuseUntrack(AccessGuard.CallerOf(context), registered) is { } refusal)
        {
            return new ErrorResult<ErrorStatus.Forbidden>(refusal);
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

    public Results<Ok<ProcessResponse>, BadRequest<ErrorResponse>, NotFound<ErrorResponse>> Get(string pid)
    {
        if (!TryParsePid(pid, out var number))
        {
            return NotAPid(pid);
        }
        return pids.Find(number) is { } root ? TypedResults.Ok(ProcessResponse.From(root)) : NotRegistered(number);
    }

    public Results<Ok<HealthResponse>, ErrorResult<ErrorStatus.ServiceUnavailable>> Health() =>
        _unavailable is { } reason ? new ErrorResult<ErrorStatus.ServiceUnavailable>(reason) : TypedResults.Ok(new HealthResponse("ok"));

    private RegisterOutcome RegisterCaller(Caller caller, bool parent)
    {
        if (ProcessOf(caller) is not { } callerPid)
        {
            return BadRequest("the tracer cannot tell which process holds this TCP connection; register through the Unix socket (--rest-socket)");
        }
        if (policy.StatusOf(callerPid) is not { } callerStatus)
        {
            return NotFound($"the calling process {callerPid} has exited");
        }
        var target = parent ? callerStatus.ParentPid : callerPid;
        if (target <= 0)
        {
            return NotFound($"the calling process {callerPid} has no parent the tracer can see");
        }
        int? nsPid = !policy.InOtherNamespace(callerStatus) ? null
            : parent ? policy.NamespacePidOf(target, callerStatus) : callerStatus.OwnNamespacePid;
        return Register(caller, target, nsPid);
    }

    /// <summary>The calling process: SO_PEERCRED's over the Unix socket, over TCP the holder of the client's socket when the tracer can see it.</summary>
    private int? ProcessOf(Caller caller) => caller.Pid ?? (caller.SocketInode is { } inode ? policy.Proc.FindSocketHolder(inode) : null);

    /// <summary>Authorizes and registers hostPid; nsPid is its number in the caller's namespace, when that is another.</summary>
    private RegisterOutcome Register(Caller caller, int hostPid, int? nsPid)
    {
        if (policy.RefuseTrace(caller, hostPid, out var startTime) is { } refusal)
        {
            return new ErrorResult<ErrorStatus.Forbidden>(refusal);
        }
        var registration = pids.Register(hostPid, new Registrant(caller.Uid ?? -1, caller.Administrator), startTime);
        var message = registration.Describe();
        return registration.Status switch
        {
            RegistrationStatus.Registered => TypedResults.Created(
                $"/pids/{registration.Pid}", new RegisteredResponse(registration.Pid, registration.Root!.ThreadCount, message, nsPid)),
            RegistrationStatus.InvalidPid or RegistrationStatus.OutOfRange or RegistrationStatus.Self or RegistrationStatus.Thread =>
                BadRequest(message),
            RegistrationStatus.NotFound => NotFound(message),
            RegistrationStatus.AlreadyRegistered or RegistrationStatus.AlreadyTracked => TypedResults.Conflict(new ErrorResponse(message)),
            RegistrationStatus.MapFull => new ErrorResult<ErrorStatus.InsufficientStorage>(message),
            _ => throw new InvalidOperationException($"unexpected registration status {registration.Status}"),
        };
    }

    private static BadRequest<ErrorResponse> BadRequest(string message) => TypedResults.BadRequest(new ErrorResponse(message));

    private static NotFound<ErrorResponse> NotFound(string message) => TypedResults.NotFound(new ErrorResponse(message));

    private static BadRequest<ErrorResponse> NotAPid(string text) =>
        BadRequest($"'{AccessGuard.Shorten(text)}' is not a process id (a positive integer)");

    private NotFound<ErrorResponse> NotRegistered(int pid) => NotFound(pids.RootOf(pid) is { } root
        ? $"process {pid} is not registered: it is traced as a descendant of registered process {root}"
        : $"process {pid} is not registered");

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
