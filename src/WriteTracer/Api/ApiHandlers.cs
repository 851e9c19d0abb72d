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
using CgroupRegisterOutcome = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Created<WriteTracer.Api.CgroupRegisteredResponse>,
    Microsoft.AspNetCore.Http.HttpResults.BadRequest<WriteTracer.Api.ErrorResponse>,
    WriteTracer.Api.ErrorResult<WriteTracer.Api.ErrorStatus.Forbidden>,
    Microsoft.AspNetCore.Http.HttpResults.NotFound<WriteTracer.Api.ErrorResponse>,
    Microsoft.AspNetCore.Http.HttpResults.Conflict<WriteTracer.Api.ErrorResponse>,
    WriteTracer.Api.ErrorResult<WriteTracer.Api.ErrorStatus.InsufficientStorage>>;
using UnregisterOutcome = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Ok<WriteTracer.Api.MessageResponse>,
    Microsoft.AspNetCore.Http.HttpResults.BadRequest<WriteTracer.Api.ErrorResponse>,
    WriteTracer.Api.ErrorResult<WriteTracer.Api.ErrorStatus.Forbidden>,
    Microsoft.AspNetCore.Http.HttpResults.NotFound<WriteTracer.Api.ErrorResponse>>;

namespace WriteTracer.Api;

/// <summary>The endpoints of the REST API (DESIGN.md, "REST API") over the registries of traced processes and cgroups.</summary>
internal sealed class ApiHandlers(PidManager pids, CgroupRegistry cgroups, AccessPolicy policy)
{
    /// <summary>Larger POST bodies get 413; <c>{"pid": N}</c> needs a few bytes, a cgroup path rarely a few hundred.</summary>
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
        var (body, notJson, tooLarge) = await ReadJsonBodyAsync(context.Request, """{"pid": N}""");
        if (notJson is not null)
        {
            return notJson;
        }
        if (tooLarge is not null)
        {
            return tooLarge;
        }
        if (!RegisterRequest.TryParse(body, out var registerRequest, out var error))
        {
            return (RegisterOutcome)BadRequest(error);
        }
        var caller = AccessGuard.CallerOf(context);
        var pid = registerRequest.Pid;
        if (HostPid(caller, pid, findTcpCaller: true, out var translated) is not { } hostPid)
        {
            return (RegisterOutcome)NotInCallerNamespace(pid, ProcessOf(caller));
        }
        return Register(caller, hostPid, translated ? pid : null);
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
        var caller = AccessGuard.CallerOf(context);
        if (HostPid(caller, number, findTcpCaller: false, out _) is not { } hostPid)
        {
            return NotInCallerNamespace(number, caller.Pid);
        }
        if (pids.Find(hostPid) is not { } registered)
        {
            return NotRegistered(number);
        }
        if (policy.RefuseUntrack(caller, registered) is { } refusal)
        {
            return new ErrorResult<ErrorStatus.Forbidden>(refusal);
        }
        var root = pids.Unregister(hostPid);
        return root is null
            ? NotRegistered(number)
            : TypedResults.Ok(new MessageResponse($"stopped tracking process {number} ({root.Comm}) and its descendants"));
    }

    public Ok<ProcessListResponse> List()
    {
        var roots = pids.Roots();
        return TypedResults.Ok(new ProcessListResponse([.. roots.Select(ProcessResponse.From)], roots.Count));
    }

    public Results<Ok<ProcessResponse>, BadRequest<ErrorResponse>, NotFound<ErrorResponse>> Get(string pid, HttpContext context)
    {
        if (!TryParsePid(pid, out var number))
        {
            return NotAPid(pid);
        }
        var caller = AccessGuard.CallerOf(context);
        if (HostPid(caller, number, findTcpCaller: false, out _) is not { } hostPid)
        {
            return NotInCallerNamespace(number, caller.Pid);
        }
        return pids.Find(hostPid) is { } root ? TypedResults.Ok(ProcessResponse.From(root)) : NotRegistered(number);
    }

    /// <summary>POST /cgroups: {"path": "PATH"}; an administrator, or the owner of the cgroup's directory.</summary>
    public async Task<Results<CgroupRegisterOutcome, ErrorResult<ErrorStatus.PayloadTooLarge>, ErrorResult<ErrorStatus.UnsupportedMediaType>>> RegisterCgroupAsync(
        HttpContext context)
    {
        var (body, notJson, tooLarge) = await ReadJsonBodyAsync(context.Request, """{"path": "PATH"}""");
        if (notJson is not null)
        {
            return notJson;
        }
        if (tooLarge is not null)
        {
            return tooLarge;
        }
        if (!CgroupRequest.TryParse(body, out var cgroupRequest, out var error))
        {
            return (CgroupRegisterOutcome)BadRequest(error);
        }
        return RegisterCgroup(AccessGuard.CallerOf(context), cgroupRequest.Path);
    }

    public Ok<CgroupListResponse> ListCgroups()
    {
        var registered = cgroups.Cgroups();
        return TypedResults.Ok(new CgroupListResponse([.. registered.Select(CgroupResponse.From)], registered.Count));
    }

    /// <summary>DELETE /cgroups?path=PATH: the registered cgroup that path names.</summary>
    public UnregisterOutcome UnregisterCgroupByPath(string? path, HttpContext context)
    {
        if (string.IsNullOrEmpty(path))
        {
            return BadRequest("name the cgroup: DELETE /cgroups?path=PATH or DELETE /cgroups/ID");
        }
        return cgroups.Find(path) is { } registered
            ? UnregisterCgroup(registered, context)
            : NotFound($"cgroup {AccessGuard.Shorten(path)} is not registered");
    }

    /// <summary>DELETE /cgroups/{id}: by the cgroup id GET /cgroups shows.</summary>
    public UnregisterOutcome UnregisterCgroupById(string id, HttpContext context)
    {
        if (!ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return BadRequest($"'{AccessGuard.Shorten(id)}' is not a cgroup id (a number GET /cgroups shows)");
        }
        return cgroups.Find(number) is { } registered
            ? UnregisterCgroup(registered, context)
            : NotFound($"no registered cgroup has id {number}");
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

    /// <summary>
    /// The process a pid of the request names, as the tracer's pid namespace numbers it: a pid means
    /// a process of the caller's own namespace. The caller is known over the Unix socket; over TCP
    /// a registration looks for the holder of the client's socket (a walk of every process's fds,
    /// too slow to make every GET and DELETE pay: those read TCP callers' pids as the tracer's).
    /// translated: the caller is in another namespace. Null when that namespace has no such process.
    /// </summary>
    private int? HostPid(Caller caller, int pid, bool findTcpCaller, out bool translated)
    {
        translated = false;
        if (pid <= 0 || (findTcpCaller ? ProcessOf(caller) : caller.Pid) is not { } callerPid
            || policy.StatusOf(callerPid) is not { } callerStatus || !policy.InOtherNamespace(callerStatus))
        {
            return pid;
        }
        translated = true;
        return policy.Translate(callerPid, callerStatus, pid);
    }

    private NotFound<ErrorResponse> NotInCallerNamespace(int pid, int? callerPid) =>
        NotFound($"no process {pid} in the caller's pid namespace ({(callerPid is { } known ? policy.Proc.PidNamespace(known) : null) ?? "not readable"})");

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
            RegistrationStatus.AlreadyRegistered or RegistrationStatus.AlreadyTracked or RegistrationStatus.InCgroup =>
                TypedResults.Conflict(new ErrorResponse(message)),
            RegistrationStatus.MapFull => new ErrorResult<ErrorStatus.InsufficientStorage>(message),
            _ => throw new InvalidOperationException($"unexpected registration status {registration.Status}"),
        };
    }

    /// <summary>Authorizes (the caller owns the cgroup's directory, or is an administrator) and registers.</summary>
    private CgroupRegisterOutcome RegisterCgroup(Caller caller, string path)
    {
        var registration = cgroups.Register(path, new Registrant(caller.Uid ?? -1, caller.Administrator),
            (cgroup, owner) => policy.RefuseCgroup(caller, cgroup, owner));
        var message = registration.Describe();
        return registration.Status switch
        {
            CgroupRegistrationStatus.Registered => TypedResults.Created($"/cgroups/{registration.Cgroup!.Id}",
                new CgroupRegisteredResponse(registration.Cgroup.Name, registration.Cgroup.Id, registration.Cgroup.ProcessCount, message)),
            CgroupRegistrationStatus.Invalid => BadRequest(message),
            CgroupRegistrationStatus.Forbidden => new ErrorResult<ErrorStatus.Forbidden>(message),
            CgroupRegistrationStatus.NotFound => NotFound(message),
            CgroupRegistrationStatus.AlreadyRegistered or CgroupRegistrationStatus.Covered => TypedResults.Conflict(new ErrorResponse(message)),
            CgroupRegistrationStatus.MapFull => new ErrorResult<ErrorStatus.InsufficientStorage>(message),
            _ => throw new InvalidOperationException($"unexpected registration status {registration.Status}"),
        };
    }

    private UnregisterOutcome UnregisterCgroup(RegisteredCgroup registered, HttpContext context)
    {
        if (policy.RefuseCgroupUntrack(AccessGuard.CallerOf(context), registered) is { } refusal)
        {
            return new ErrorResult<ErrorStatus.Forbidden>(refusal);
        }
        return cgroups.Unregister(registered.Id) is { } removed
            ? TypedResults.Ok(new MessageResponse($"stopped tracking cgroup {removed.Name} (id {removed.Id})"))
            : NotFound($"no registered cgroup has id {registered.Id}");
    }

    /// <summary>The body of a JSON POST, or the refusal to answer instead: not JSON (415) or too large (413).</summary>
    private static async Task<(ReadOnlyMemory<byte> Body, ErrorResult<ErrorStatus.UnsupportedMediaType>? NotJson,
        ErrorResult<ErrorStatus.PayloadTooLarge>? TooLarge)> ReadJsonBodyAsync(HttpRequest request, string shape)
    {
        if (!IsJson(request.ContentType))
        {
            return (default, new(request.ContentType is null
                ? $"the body must be JSON sent with 'Content-Type: application/json' (curl: --json '{shape}')"
                : $"Content-Type '{AccessGuard.Shorten(request.ContentType)}' is not application/json (UTF-8)"), null);
        }
        var body = await ReadBodyAsync(request);
        return body is null ? (default, null, new($"the body is larger than {MaxBodyBytes} bytes")) : (body.Value, null, null);
    }

    private static BadRequest<ErrorResponse> BadRequest(string message) => TypedResults.BadRequest(new ErrorResponse(message));

    private static NotFound<ErrorResponse> NotFound(string message) => TypedResults.NotFound(new ErrorResponse(message));

    private static BadRequest<ErrorResponse> NotAPid(string text) =>
        BadRequest($"'{AccessGuard.Shorten(text)}' is not a process id (a positive integer)");

    private NotFound<ErrorResponse> NotRegistered(int pid) => NotFound(pids.RootOf(pid) switch
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
