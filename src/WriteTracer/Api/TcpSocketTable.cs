using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WriteTracer.Api;

/// <summary>
/// The kernel's table of TCP sockets (/proc/net/tcp and tcp6, this network namespace):
/// who owns the client end of a loopback connection.
/// </summary>
internal sealed class TcpSocketTable(string procRoot = "/proc")
{
    /// <summary>
    /// The uid and inode of the socket whose local end is client and remote end is server;
    /// false when no such socket is listed (the client closed it already).
    /// </summary>
    public bool TryFindOwner(IPEndPoint client, IPEndPoint server, out int uid, out ulong inode)
    {
        foreach (var (file, family) in Tables(client.Address))
        {
            var local = Format(client, family);
            var remote = Format(server, family);
            string[] lines;
            try
            {
                lines = File.ReadAllLines(Path.Combine(procRoot, "net", file));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var line in lines.Skip(1))
            {
                if (TryParse(line, local, remote, out uid, out inode))
                {
                    return true;
                }
            }
        }
        uid = -1;
        inode = 0;
        return false;
    }

    /// <summary>
    /// Parses a line "sl: LOCAL REMOTE st tx:rx tr:when retrnsmt uid timeout inode …"; true when
    /// its addresses are these (already in the table's hexadecimal form).
    /// </summary>
    internal static bool TryParse(string line, string local, string remote, out int uid, out ulong inode)
    {
        uid = -1;
        inode = 0;
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 10
            && fields[1].Equals(local, StringComparison.OrdinalIgnoreCase)
            && fields[2].Equals(remote, StringComparison.OrdinalIgnoreCase)
            && int.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out uid)
            && ulong.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out inode)
            && inode != 0;
    }

    /// <summary>
    /// An endpoint as the table prints it: the address as the 32-bit words of its bytes in
    /// host order (little-endian: 127.0.0.1 is 0100007F), then the port in hexadecimal.
    /// </summary>
    internal static string Format(IPEndPoint endpoint, AddressFamily family)
    {
        var address = family == AddressFamily.InterNetwork ? endpoint.Address.MapToIPv4() : endpoint.Address.MapToIPv6();
        var bytes = address.GetAddressBytes();
        var words = string.Concat(Enumerable.Range(0, bytes.Length / 4)
            .Select(i => BitConverter.ToUInt32(bytes, i * 4).ToString("X8", CultureInfo.InvariantCulture)));
        return $"{words}:{endpoint.Port:X4}";
    }

    /// <summary>An IPv4 client is in tcp, or in tcp6 as a mapped address when the server socket is dual-stack.</summary>
    private static IEnumerable<(string File, AddressFamily Family)> Tables(IPAddress client) =>
        client.AddressFamily == AddressFamily.InterNetwork || client.IsIPv4MappedToIPv6
            ? [("tcp", AddressFamily.InterNetwork), ("tcp6", AddressFamily.InterNetworkV6)]
            : [("tcp6", AddressFamily.InterNetworkV6)];
}
