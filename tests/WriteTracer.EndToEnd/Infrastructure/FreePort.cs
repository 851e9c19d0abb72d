using System.Net;
using System.Net.Sockets;

namespace WriteTracer.EndToEnd.Infrastructure;

internal static class FreePort
{
    /// <summary>A TCP port nothing listens on right now (the kernel's pick of an ephemeral one).</summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
