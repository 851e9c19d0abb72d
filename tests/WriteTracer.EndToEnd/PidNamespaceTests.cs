using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>
/// A job inside its own pid namespace (unshare --pid --fork --mount-proc) registers itself over
/// the Unix socket: /pids/self and /pids/parent name the host processes the kernel reports for
/// the caller, and a {"pid": N} from inside means N in the caller's namespace, never host pid N.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PidNamespaceTests : IDisposable
{
    private const int WriterLines = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-pidns-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Job = """
        import http.client, json, os, socket, sys
        sock, report, mode = sys.argv[1:4]
        class UnixConnection(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(sock)
        def request(path, body=None, method="POST"):
            connection = UnixConnection("localhost")
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
            response = connection.getresponse()
            return {"status": response.status, "body": json.loads(response.read())}
        result = {"own_pid": os.getpid()}
        if mode == "pid":
            result["by_pid"] = request("/pids", json.dumps({"pid": int(sys.argv[4])}))
            result["absent"] = request("/pids", '{"pid": 99999}')
        elif mode == "delete":
            path = f"/pids/{sys.argv[4]}"
            result["get"] = request(path, method="GET")
            result["deleted"] = request(path, method="DELETE")
            result["gone"] = request(path, method="GET")
        elif mode == "self":
            result["self"] = request("/pids/self")
            for i in range(3):
                os.write(1, f"inside self {i}\n".encode())
        else:
            result["parent"] = request("/pids/parent")
        with open(report, "w") as f:
            json.dump(result, f)
        """;

    [RootFact]
    public async Task Self_parent_and_namespace_pids_name_the_right_host_processes()
    {
        var socket = Path.Combine(_dir, "api.sock");
        var job = Path.Combine(_dir, "job.py");
        File.WriteAllText(job, Job);
        await using var tracer = TracerProcess.Start("--rest-socket", socket);
        await tracer.WaitUntilTracingAsync();

        string Report(string name) => Path.Combine(_dir, name + ".json");
        var script = $"""
            set -e
            sleep 600 & sleeper=$!
            {ApiClient.Python} {job} {socket} {Report("pid")} pid $sleeper
            {ApiClient.Python} {job} {socket} {Report("delete")} delete $sleeper
            {ApiClient.Python} {job} {socket} {Report("self")} self
            {ApiClient.Python} {job} {socket} {Report("parent")} parent
            echo "$$" > {Report("shell")}
            {Repository.Writer} -n {WriterLines}
            echo "$sleeper" > {Report("sleeper")}
            kill $sleeper
            """;
        var (exitCode, _, stderr) = await Shell.ExecAsync("unshare", ["--pid", "--fork", "--mount-proc", "/bin/bash", "-c", script], Timeout);
        Assert.True(exitCode == 0, stderr);
        await tracer.WaitForEventsAsync(IsWriters, WriterLines, Timeout);

        // {"pid": N}: the sleeper, N being its pid inside; its host pid is another number.
        var byPid = Read(Report("pid"));
        var sleeperNsPid = int.Parse(File.ReadAllText(Report("sleeper")));
        var registered = byPid.GetProperty("by_pid");
        Assert.Equal(201, registered.GetProperty("status").GetInt32());
        var sleeperHostPid = registered.GetProperty("body").GetProperty("pid").GetInt32();
        Assert.Equal(sleeperNsPid, registered.GetProperty("body").GetProperty("ns_pid").GetInt32());
        Assert.NotEqual(sleeperNsPid, sleeperHostPid);
        Assert.Equal($"tracking process {sleeperHostPid} (sleep) with 1 thread in 1 process",
            registered.GetProperty("body").GetProperty("message").GetString());
        // GET and DELETE /pids/N read N in the caller's namespace too.
        var delete = Read(Report("delete"));
        Assert.Equal(200, delete.GetProperty("get").GetProperty("status").GetInt32());
        Assert.Equal(sleeperHostPid, delete.GetProperty("get").GetProperty("body").GetProperty("pid").GetInt32());
        Assert.Equal(200, delete.GetProperty("deleted").GetProperty("status").GetInt32());
        Assert.Equal($"stopped tracking process {sleeperNsPid} (sleep) and its descendants",
            delete.GetProperty("deleted").GetProperty("body").GetProperty("message").GetString());
        Assert.Equal(404, delete.GetProperty("gone").GetProperty("status").GetInt32());
        var absent = byPid.GetProperty("absent");
        Assert.Equal(404, absent.GetProperty("status").GetInt32());
        Assert.Matches(@"^no process 99999 in the caller's pid namespace \(pid:\[\d+\]\)$", absent.GetProperty("body").GetProperty("error").GetString());

        // /pids/self: the python process, by its host pid; its writes carry that pid.
        var self = Read(Report("self"));
        var selfBody = self.GetProperty("self").GetProperty("body");
        Assert.Equal(201, self.GetProperty("self").GetProperty("status").GetInt32());
        var selfHostPid = selfBody.GetProperty("pid").GetInt32();
        Assert.Equal(self.GetProperty("own_pid").GetInt32(), selfBody.GetProperty("ns_pid").GetInt32());
        var selfLines = tracer.Events.Where(e => e.GetProperty("data").GetString()!.StartsWith("inside self ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, selfLines.Count);
        Assert.All(selfLines, e => Assert.Equal(selfHostPid, e.GetProperty("pid").GetInt32()));

        // /pids/parent: the namespace's shell (pid 1 inside); the writer it ran is traced under it, by host pid.
        var parent = Read(Report("parent")).GetProperty("parent");
        Assert.Equal(201, parent.GetProperty("status").GetInt32());
        Assert.Equal(1, parent.GetProperty("body").GetProperty("ns_pid").GetInt32());
        Assert.Equal("1", File.ReadAllText(Report("shell")).Trim());
        var shellHostPid = parent.GetProperty("body").GetProperty("pid").GetInt32();
        var writes = tracer.Events.Where(IsWriters).ToList();
        Assert.Equal(WriterLines, writes.Count);
        Assert.All(writes, e =>
        {
            Assert.Equal(shellHostPid, e.GetProperty("root_pid").GetInt32());
            Assert.True(WriterLine.TryParse(e, out var line));
            Assert.NotEqual(line.Pid, e.GetProperty("pid").GetInt32()); // the payload holds the pid inside
        });
        Assert.Equal(0, await tracer.StopAsync());
    }

    private static JsonElement Read(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();

    private static bool IsWriters(JsonElement e) => e.GetProperty("comm").GetString() == "writer" && WriterLine.TryParse(e, out _);
}
