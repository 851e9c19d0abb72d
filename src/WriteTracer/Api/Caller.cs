namespace WriteTracer.Api;

/// <summary>Who sent a request, as the kernel reports it; never what the request claims.</summary>
/// <param name="Uid">The caller's uid; null when the kernel cannot say (a network client, a socket that vanished).</param>
/// <param name="Pid">The caller's pid in the tracer's pid namespace, when known (always over the Unix socket).</param>
/// <param name="SocketInode">Over loopback TCP, the inode of the client's socket, through which its owning process can be found.</param>
/// <param name="TokenHolder">The request presented the --api-token-file token.</param>
/// <param name="Administrator">May trace and untrack anything (see <see cref="AccessPolicy.IsAdministrator"/>).</param>
internal sealed record Caller(CallerTransport Transport, int? Uid, int? Pid, ulong? SocketInode, bool TokenHolder, bool Administrator)
{
    /// <summary>The caller for the audit trail: "uid 1000 pid 4242 over the Unix socket".</summary>
    public override string ToString()
    {
        var who = Uid is { } uid ? $"uid {uid}" : "unknown uid";
        var pid = Pid is { } number ? $" pid {number}" : "";
        var token = TokenHolder ? " with the token" : "";
        var role = Administrator ? " (administrator)" : "";
        var over = Transport switch
        {
            CallerTransport.UnixSocket => "the Unix socket",
            CallerTransport.Loopback => "loopback TCP",
            _ => "TCP from the network",
        };
        return $"{who}{pid}{token} over {over}{role}";
    }
}
