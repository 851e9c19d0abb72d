using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiTracer;

namespace WriteTracer.EndToEnd;

/// <summary>The REST contract (docs/DESIGN.md, "REST API") against the running tracer: every status code, every body.</summary>
public sealed class RestApiContractTests
{
    [RootFact]
    public async Task Every_status_code_comes_with_its_own_json_body()
    {
        await using var api = await StartAsync();
        using var writer = WriterProcess.StartHeld("-n", "1");
        var tracerPid = api.Tracer.Pid;

        await AssertOkAsync(await api.Http.GetAsync("/healthz"), """{"status":"ok"}""");
        await AssertOkAsync(await api.Http.GetAsync("/pids"), """{"processes":[],"total":0}""");

        // 201, then 409 for the same process
        var before = DateTime.UtcNow;
        using (var created = await api.RegisterAsync(writer.Pid))
        {
            Assert.Equal($"/pids/{writer.Pid}", created.Headers.Location?.OriginalString);
            await AssertJsonAsync(created, HttpStatusCode.Created,
                $$"""{"pid":{{writer.Pid}},"thread_count":1,"message":"tracking process {{writer.Pid}} (writer) with 1 thread in 1 process","threads":1}""");
        }
        await AssertErrorAsync(await api.RegisterAsync(writer.Pid), HttpStatusCode.Conflict, $"process {writer.Pid} is already registered");

        // GET /pids and /pids/{pid}
        var (status, list) = await ReadAsync(await api.Http.GetAsync("/pids"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        var listed = Assert.Single(list.GetProperty("processes").EnumerateArray());
        AssertProcess(listed, writer.Pid, before);
        var (oneStatus, one) = await ReadAsync(await api.Http.GetAsync($"/pids/{writer.Pid}"));
        Assert.Equal(HttpStatusCode.OK, oneStatus);
        Assert.Equal(listed.GetRawText(), one.GetRawText());
        await AssertErrorAsync(await api.Http.GetAsync("/pids/12abc"), HttpStatusCode.BadRequest, "'12abc' is not a process id (a positive integer)");
        var absent = AbsentPid();
        await AssertErrorAsync(await api.Http.GetAsync($"/pids/{absent}"), HttpStatusCode.NotFound, $"process {absent} is not registered");

        // 400: every malformed body gets its own sentence
        var pidMax = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max"), CultureInfo.InvariantCulture);
        var tracerThread = Directory.EnumerateDirectories($"/proc/{tracerPid}/task").Select(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture)).First(t => t != tracerPid);
        (string Body, string Error)[] badRequests =
        [
            ("", """the body is empty: send {"pid": N}"""),
            ("[1]", """the body must be a JSON object like {"pid": 1234}, not an array"""),
            ("{}", """the body has no "pid" field: send {"pid": N}"""),
            ("""{"pid": "12"}""", "\"pid\" must be an integer, not a string"),
            ("""{"pid": 1.5}""", "\"pid\" must be an integer, not 1.5"),
            ("""{"pid": 0}""", "pid 0 is not a positive process id"),
            ("""{"pid": -4}""", "pid -4 is not a positive process id"),
            ("""{"pid": 9999999999}""", "\"pid\" 9999999999 is out of range: no process id is that large"),
            ($$"""{"pid": {{pidMax + 1}}}""", $"pid {pidMax + 1} is out of range: process ids go from 1 to {pidMax} (kernel.pid_max)"),
            ($$"""{"pid": {{tracerPid}}}""", $"pid {tracerPid} is the tracer itself, which never traces itself"),
            ($$"""{"pid": {{tracerThread}}}""", $"{tracerThread} is a thread of process {tracerPid}, not a process: register {tracerPid}"),
            ("""{"pid": 1, "pid": 2}""", "the body names \"pid\" more than once"),
        ];
        foreach (var (body, error) in badRequests)
        {
            await AssertErrorAsync(await api.Http.PostAsync("/pids", Json(body)), HttpStatusCode.BadRequest, error);
        }
        var (invalidStatus, invalid) = await ReadAsync(await api.Http.PostAsync("/pids", Json("{pid: 5}")));
        Assert.Equal(HttpStatusCode.BadRequest, invalidStatus);
        Assert.StartsWith("the body is not valid JSON: ", invalid.GetProperty("error").GetString());

        // 404: no such process
        await AssertErrorAsync(await api.RegisterAsync(absent), HttpStatusCode.NotFound, $"no such process: {absent}");

        // 413: over 4 KiB, with or without a Content-Length; 4 KiB exactly is read
        var padding = new string(' ', 4096);
        await AssertErrorAsync(await api.Http.PostAsync("/pids", Json($$"""{"pid": {{absent}}}{{padding}}""")),
            HttpStatusCode.RequestEntityTooLarge, "the body is larger than 4096 bytes");
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"pid": {{absent}}}{{padding}}""")));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await AssertErrorAsync(await api.Http.PostAsync("/pids", chunked), HttpStatusCode.RequestEntityTooLarge, "the body is larger than 4096 bytes");
        var exact = $$"""{"pid": {{absent}}}""";
        await AssertErrorAsync(await api.Http.PostAsync("/pids", Json(exact + new string(' ', 4096 - exact.Length))),
            HttpStatusCode.NotFound, $"no such process: {absent}");

        // 415: not JSON
        var untyped = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"pid": {{absent}}}"""));
        await AssertErrorAsync(await api.Http.PostAsync("/pids", untyped), HttpStatusCode.UnsupportedMediaType,
            "the body must be JSON sent with 'Content-Type: application/json' (curl: --json '{\"pid\": N}')");
        await AssertErrorAsync(await api.Http.PostAsync("/pids", new StringContent("pid=5", Encoding.UTF8, "application/x-www-form-urlencoded")),
            HttpStatusCode.UnsupportedMediaType, "Content-Type 'application/x-www-form-urlencoded; charset=utf-8' is not application/json (UTF-8)");
        await AssertErrorAsync(await api.Http.PostAsync("/pids", new StringContent("{}", Encoding.Latin1, "application/json")),
            HttpStatusCode.UnsupportedMediaType, "Content-Type 'application/json; charset=iso-8859-1' is not application/json (UTF-8)");

        // 405 and 404 from routing, in the same JSON
        using (var put = await api.Http.PutAsync("/pids", Json("{}")))
        {
            Assert.Equal(["GET", "POST"], put.Content.Headers.Allow);
            await AssertErrorAsync(put, HttpStatusCode.MethodNotAllowed, "method PUT is not allowed on /pids; allowed: GET, POST");
        }
        await AssertErrorAsync(await api.Http.PatchAsync($"/pids/{writer.Pid}", Json("{}")), HttpStatusCode.MethodNotAllowed,
            $"method PATCH is not allowed on /pids/{writer.Pid}; allowed: DELETE, GET");
        await AssertErrorAsync(await api.Http.PostAsync("/healthz", Json("{}")), HttpStatusCode.MethodNotAllowed,
            "method POST is not allowed on /healthz; allowed: GET");
        await AssertErrorAsync(await api.Http.GetAsync("/pid"), HttpStatusCode.NotFound, "no such endpoint: GET /pid (see /openapi.json)");

        // A page on another site must not reach the API through DNS rebinding.
        using (var rebound = new HttpRequestMessage(HttpMethod.Get, "/pids"))
        {
            rebound.Headers.Host = "attacker.example";
            await AssertErrorAsync(await api.Http.SendAsync(rebound), HttpStatusCode.BadRequest,
                "Host 'attacker.example' is not accepted: the API listens on loopback, so the Host must be localhost or a loopback address");
        }
        using (var local = new HttpRequestMessage(HttpMethod.Get, "/healthz"))
        {
            local.Headers.Host = $"localhost:{api.Port}";
            Assert.Equal(HttpStatusCode.OK, (await api.Http.SendAsync(local)).StatusCode);
        }

        // DELETE: 400, 404, 200; nothing is left in the registry or the kernel
        await AssertErrorAsync(await api.Http.DeleteAsync("/pids/abc"), HttpStatusCode.BadRequest, "'abc' is not a process id (a positive integer)");
        await AssertErrorAsync(await api.Http.DeleteAsync("/pids/0"), HttpStatusCode.BadRequest, "'0' is not a process id (a positive integer)");
        await AssertErrorAsync(await api.UnregisterAsync(absent), HttpStatusCode.NotFound, $"process {absent} is not registered");
        Assert.Equal(new Dictionary<int, int> { [writer.Pid] = writer.Pid }, api.KernelMap());
        await AssertJsonAsync(await api.UnregisterAsync(writer.Pid), HttpStatusCode.OK,
            $$"""{"message":"stopped tracking process {{writer.Pid}} (writer) and its descendants"}""");
        await AssertErrorAsync(await api.UnregisterAsync(writer.Pid), HttpStatusCode.NotFound, $"process {writer.Pid} is not registered");
        Assert.Empty(await api.ListAsync());
        Assert.Empty(api.KernelMap());

        // Kestrel's chatter stays out of stdout, and out of stderr below warnings.
        Assert.Equal(0, await api.Tracer.StopAsync());
        Assert.Empty(api.Tracer.StdoutLines);
        Assert.DoesNotContain("Now listening", api.Tracer.Stderr);
        Assert.DoesNotContain("Request finished", api.Tracer.Stderr);
    }

    [RootFact]
    public async Task A_full_tracked_map_answers_507_and_leaves_nothing_of_the_attempt()
    {
        await using var api = await StartAsync("--max-tracked-processes", "2");
        using var single = await SleeperTree.StartAsync(children: 0);
        using var parent = await SleeperTree.StartAsync(children: 1);
        var child = parent.Children().Single();
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(single.Pid)).StatusCode);

        // The parent fits, its child does not: the whole registration is undone.
        await AssertErrorAsync(await api.RegisterAsync(parent.Pid), HttpStatusCode.InsufficientStorage,
            $"cannot track process {parent.Pid}: the tracked-process map is full (--max-tracked-processes)");

        Assert.Equal(new Dictionary<int, int> { [single.Pid] = single.Pid }, api.KernelMap());
        Assert.Equal([single.Pid], await api.ListAsync());
        Assert.Equal(HttpStatusCode.OK, (await api.UnregisterAsync(single.Pid)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(parent.Pid)).StatusCode);
        Assert.Equal(new Dictionary<int, int> { [parent.Pid] = parent.Pid, [child] = parent.Pid }, api.KernelMap());
    }

    [RootFact]
    public async Task The_openapi_document_describes_exactly_the_routes_that_answer()
    {
        await using var api = await StartAsync();
        var (status, document) = await ReadAsync(await api.Http.GetAsync("/openapi.json"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());

        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}"))
            .Order().ToList();
        Assert.Equal(["DELETE /cgroups", "DELETE /cgroups/{id}", "DELETE /pids/{pid}", "GET /cgroups", "GET /healthz", "GET /pids", "GET /pids/{pid}",
            "POST /cgroups", "POST /pids", "POST /pids/parent", "POST /pids/self"], documented);

        // Every route the server answers is documented, and nothing else answers.
        string[] methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
        string[] paths = ["/pids", "/pids/{pid}", "/pids/self", "/pids/parent", "/cgroups", "/cgroups/{id}", "/healthz"];
        foreach (var path in paths)
        {
            foreach (var method in methods)
            {
                if (path is "/pids/self" or "/pids/parent" && method is "GET" or "DELETE")
                {
                    continue; // GET /pids/{pid}'s and DELETE /pids/{pid}'s: 'self' is no pid there
                }
                using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{pid}", "1").Replace("{id}", "1"));
                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = Json("{}");
                }
                var (answer, body) = await ReadAsync(await api.Http.SendAsync(request));
                var routed = answer != HttpStatusCode.MethodNotAllowed
                    && !(body.TryGetProperty("error", out var error) && error.GetString()!.StartsWith("no such endpoint", StringComparison.Ordinal));
                Assert.True(routed == documented.Contains($"{method} {path}"), $"{method} {path}: {answer} {body}");
            }
        }

        var register = document.GetProperty("paths").GetProperty("/pids").GetProperty("post");
        Assert.Equal(["201", "400", "403", "404", "409", "413", "415", "507"], Statuses(register));
        foreach (var self in new[] { "/pids/self", "/pids/parent" })
        {
            Assert.Equal(["201", "400", "403", "404", "409", "507"], Statuses(document.GetProperty("paths").GetProperty(self).GetProperty("post")));
        }
        Assert.Equal(["200", "400", "403", "404"], Statuses(document.GetProperty("paths").GetProperty("/pids/{pid}").GetProperty("delete")));
        Assert.Equal(["200", "400", "404"], Statuses(document.GetProperty("paths").GetProperty("/pids/{pid}").GetProperty("get")));
        Assert.Equal(["200", "503"], Statuses(document.GetProperty("paths").GetProperty("/healthz").GetProperty("get")));
        var cgroups = document.GetProperty("paths").GetProperty("/cgroups");
        Assert.Equal(["201", "400", "403", "404", "409", "413", "415", "507"], Statuses(cgroups.GetProperty("post")));
        Assert.Equal(["200"], Statuses(cgroups.GetProperty("get")));
        Assert.Equal(["200", "400", "403", "404"], Statuses(cgroups.GetProperty("delete")));
        Assert.Equal(["200", "400", "403", "404"], Statuses(document.GetProperty("paths").GetProperty("/cgroups/{id}").GetProperty("delete")));
        var cgroupPath = cgroups.GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json")
            .GetProperty("schema").GetProperty("properties").GetProperty("path");
        Assert.Equal("string", cgroupPath.GetProperty("type").GetString());
        var pid = register.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("properties").GetProperty("pid");
        Assert.Equal("integer", pid.GetProperty("type").GetString());
        var item = document.GetProperty("components").GetProperty("schemas").GetProperty("ProcessResponse").GetProperty("properties");
        Assert.Equal(["pid", "process_count", "registered_at", "thread_count"], item.EnumerateObject().Select(p => p.Name).Order());
    }

    [RootFact]
    public async Task A_command_line_root_is_listed_and_can_be_deleted()
    {
        using var writer = WriterProcess.StartHeld("-n", "1");
        await using var api = await StartAsync("-p", $"{writer.Pid}");

        Assert.Equal([writer.Pid], await api.ListAsync());
        Assert.Equal(new Dictionary<int, int> { [writer.Pid] = writer.Pid }, api.KernelMap());
        Assert.Equal(HttpStatusCode.OK, (await api.UnregisterAsync(writer.Pid)).StatusCode);
        Assert.Empty(await api.ListAsync());
        Assert.Empty(api.KernelMap());
        Assert.False(api.Tracer.HasExited);
    }

    private static void AssertProcess(JsonElement process, int pid, DateTime registeredAfter)
    {
        Assert.Equal(["pid", "thread_count", "process_count", "registered_at"], process.EnumerateObject().Select(p => p.Name));
        Assert.Equal(pid, process.GetProperty("pid").GetInt32());
        Assert.Equal(1, process.GetProperty("thread_count").GetInt32());
        Assert.Equal(1, process.GetProperty("process_count").GetInt32());
        var text = process.GetProperty("registered_at").GetString()!;
        Assert.EndsWith("Z", text);
        var registeredAt = DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.InRange(registeredAt, registeredAfter.AddSeconds(-1), DateTime.UtcNow.AddSeconds(1));
    }

    private static Task AssertOkAsync(HttpResponseMessage response, string json) => AssertJsonAsync(response, HttpStatusCode.OK, json);

    private static async Task AssertJsonAsync(HttpResponseMessage response, HttpStatusCode status, string json)
    {
        var (actual, body) = await ReadAsync(response);
        Assert.Equal(status, actual);
        Assert.Equal(json, body.GetRawText());
    }

    /// <summary>A pid no process has: counted down from pid_max.</summary>
    private static int AbsentPid()
    {
        var pid = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max"), CultureInfo.InvariantCulture) - 1;
        while (Directory.Exists($"/proc/{pid}"))
        {
            pid--;
        }
        return pid;
    }

    private static IEnumerable<string> Statuses(JsonElement operation) =>
        operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order();
}
