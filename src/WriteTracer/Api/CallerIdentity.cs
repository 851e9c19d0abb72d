using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections.Features;

namespace WriteTracer.Api;

/// <summary>Finds out from the kernel who is at the other end of a request's connection.</summary>
internal sealed class CallerIdentity(TcpSocketTable sockets, AccessPolicy policy)
{
    private const int SOL_SOCKET = 1, SO_PEERCRED = 17;

    /// <summary>The caller of this request; tokenHolder says whether it presented the bearer token.</summary>
    public Caller Identify(HttpContext context, bool tokenHolder)
    {
        var (transport, uid, pid, inode) = Identify(context.Connection, context);
        return new Caller(transport, uid, pid, inode, tokenHolder, policy.IsAdministrator(tokenHolder, transport, uid, pid));
    }

    private (CallerTransport, int? Uid, int? Pid, ulong? Inode) Identify(ConnectionInfo connection, HttpContext context)
    {
        if (connection.LocalIpAddress is null)
        {
            var (pid, uid) = PeerCredentials(context);
            return (CallerTransport.UnixSocket, uid, pid, null);
        }
        if (connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(Unmapped(remote)))
        {
            return (CallerTransport.Network, null, null, null);
        }
        var client = new IPEndPoint(remote, connection.RemotePort);
        var server = new IPEndPoint(connection.LocalIpAddress, connection.LocalPort);
        return sockets.TryFindOwner(client, server, out var owner, out var inode)
            ? (CallerTransport.Loopback, owner, null, inode)
            : (CallerTransport.Loopback, null, null, null);
    }

    /// <summary>
    /// SO_PEERCRED of the connection: the pid (in the tracer's pid namespace: the kernel
    /// translates it) and uid of the process that connected, as of connect().
    /// </summary>
    private static (int? Pid, int? Uid) PeerCredentials(HttpContext context)
    {
        if (context.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return (null, null);
        }
        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        try
        {
            if (socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, credentials) != credentials.Length)
            {
                return (null, null);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return (null, null);
        }
        var pid = MemoryMarshal.Read<int>(credentials);
        var uid = MemoryMarshal.Read<int>(credentials[4..]);
        // pid 0: the peer is in a pid namespace the tracer cannot see into reverse (never for a host tracer).
        return (pid > 0 ? pid : null, uid);
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
