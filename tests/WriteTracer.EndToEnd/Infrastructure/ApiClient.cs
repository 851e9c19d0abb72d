using System.Net;
using System.Text.Json;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// One REST request sent by a separate process (Debian's python3, standard library only),
/// as root or as the user nobody through setpriv, so the tracer sees that process's
/// credentials. target is a port on 127.0.0.1 or the path of a Unix socket.
/// </summary>
internal static class ApiClient
{
    public const int NobodyUid = 65534;

    /// <summary>setpriv's options for the user nobody, with no groups and no capabilities (an ordinary user).</summary>
    public static readonly string[] Nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];

    public const string Python = "/usr/bin/python3";

    private const string Script = """
        import http.client, socket, sys
        target, method, path, body, token = sys.argv[1:6]
        class UnixConnection(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(target)
        connection = UnixConnection("localhost") if target.startswith("/") else http.client.HTTPConnection("127.0.0.1", int(target))
        headers = {"Content-Type": "application/json"} if body else {}
        if token:
            headers["Authorization"] = "Bearer " + token
        connection.request(method, path, body=body.encode() if body else None, headers=headers)
        response = connection.getresponse()
        print(response.status)
        print(response.read().decode())
        """;

    /// <summary>Sends the request as nobody.</summary>
    public static Task<(HttpStatusCode Status, JsonElement Body)> AsNobodyAsync(string target, string method, string path, string? json = null, string? token = null) =>
        SendAsync("setpriv", [.. Nobody, Python], target, method, path, json, token);

    /// <summary>Sends the request as root (the test's own user), from another process.</summary>
    public static Task<(HttpStatusCode Status, JsonElement Body)> AsRootAsync(string target, string method, string path, string? json = null, string? token = null) =>
        SendAsync(Python, [], target, method, path, json, token);

    /// <summary>POST /pids {"pid": pid} as nobody.</summary>
    public static Task<(HttpStatusCode Status, JsonElement Body)> RegisterAsNobodyAsync(string target, int pid, string? token = null) =>
        AsNobodyAsync(target, "POST", "/pids", $$"""{"pid": {{pid}}}""", token);

    private static async Task<(HttpStatusCode, JsonElement)> SendAsync(string program, string[] prefix, string target, string method, string path, string? json, string? token)
    {
        var (exitCode, stdout, stderr) = await Shell.ExecAsync(program,
            [.. prefix, "-c", Script, target, method, path, json ?? "", token ?? ""], TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"the client failed ({exitCode}): {stderr}");
        var lines = stdout.Split('\n', 2);
        return ((HttpStatusCode)int.Parse(lines[0]), JsonDocument.Parse(lines[1]).RootElement.Clone());
    }
}
