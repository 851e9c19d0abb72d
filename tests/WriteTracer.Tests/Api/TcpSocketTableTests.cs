using System.Net;
using System.Net.Sockets;
using WriteTracer.Api;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Api;

/// <summary>Finding the owner of a loopback client's socket in /proc/net/tcp and tcp6.</summary>
public sealed class TcpSocketTableTests : IDisposable
{
    private readonly TempDirectory _proc = new("wt-net-");

    public void Dispose() => _proc.Dispose();

    [Theory]
    [InlineData("127.0.0.1", 8080, AddressFamily.InterNetwork, "0100007F:1F90")]
    [InlineData("::1", 9092, AddressFamily.InterNetworkV6, "00000000000000000000000001000000:2384")]
    [InlineData("127.0.0.1", 22, AddressFamily.InterNetworkV6, "0000000000000000FFFF00000100007F:0016")]
    public void Formats_endpoints_as_the_kernel_prints_them(string address, int port, AddressFamily family, string expected)
    {
        Assert.Equal(expected, TcpSocketTable.Format(new IPEndPoint(IPAddress.Parse(address), port), family));
    }

    [Fact]
    public void Finds_the_client_end_of_the_connection_not_the_server_end()
    {
        Directory.CreateDirectory(Path.Combine(_proc.Path, "net"));
        File.WriteAllText(Path.Combine(_proc.Path, "net", "tcp"), """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
               1: 0100007F:2384 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1
               2: 0100007F:D431 0100007F:2384 01 00000000:00000000 00:00000000 00000000  1000        0 3333 1 0000000000000000 20 4 30 10 -1
            """);
        File.WriteAllText(Path.Combine(_proc.Path, "net", "tcp6"), "  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
        var table = new TcpSocketTable(_proc.Path);
        var client = new IPEndPoint(IPAddress.Loopback, 0xD431);
        var server = new IPEndPoint(IPAddress.Loopback, 9092);

        Assert.True(table.TryFindOwner(client, server, out var uid, out var inode));
        Assert.Equal(1000, uid);
        Assert.Equal(3333UL, inode);
        Assert.False(table.TryFindOwner(new IPEndPoint(IPAddress.Loopback, 1), server, out _, out _));
    }
}
