using System.Net.Sockets;
using System.Runtime.InteropServices;
using Serilog;
using WriteTracer.Hosting;
using WriteTracer.Native;

namespace WriteTracer.Api;

/// <summary>
/// Creates the bound socket of --rest-socket: readable and writable by the owner only
/// from the moment it exists, then given --rest-socket-mode (which the umask would narrow
/// at bind), and replacing a stale socket left by a killed run.
/// </summary>
internal static class UnixSocketListener
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static Socket Bind(UnixDomainSocketEndPoint endpoint, UnixFileMode mode)
    {
        var path = endpoint.ToString();
        // bind() reports a missing directory as "Cannot assign requested address".
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            throw Failure(path, $"the directory {directory} does not exist");
        }
        RemoveStale(endpoint, path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // bind() gives the file the socket's own mode (less the umask), so setting it
            // first leaves no moment in which another user could connect.
            if (Interop.Libc.FChmod(socket.SafeHandle, (uint)OwnerOnly) != 0)
            {
                throw Failure(path, $"cannot set its mode: {Marshal.GetLastPInvokeErrorMessage()}");
            }
            socket.Bind(endpoint);
            // Nobody can connect before Kestrel listens, so widening now opens no window.
            Interop.Libc.SetMode(path, mode);
            return socket;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw Failure(path, e.Message);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A socket file nobody listens on is what a killed tracer leaves behind: removed.
    /// Anything else at the path (a live socket, a regular file) is an error, never deleted.
    /// </summary>
    private static void RemoveStale(UnixDomainSocketEndPoint endpoint, string path)
    {
        if (Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, Interop.Libc.AT_SYMLINK_NOFOLLOW, Interop.Libc.STATX_TYPE, out var stat) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.Libc.ENOENT)
            {
                return;
            }
            throw Failure(path, Marshal.GetPInvokeErrorMessage(errno));
        }
        if ((stat.Mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFSOCK)
        {
            throw Failure(path, "the path exists and is not a socket");
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
            Log.Information("removed the stale socket {Path}", path);
            return;
        }
        catch (SocketException e)
        {
            throw Failure(path, e.Message);
        }
        throw Failure(path, "another process is listening on it");
    }

    private static StartupException Failure(string path, string reason) => new($"--rest-socket {path}: {reason}");
}
