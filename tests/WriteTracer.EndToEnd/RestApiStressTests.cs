using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiTracer;

namespace WriteTracer.EndToEnd;

/// <summary>The API under parallel load and under a bounded fuzz run; seeded, so a failure replays.</summary>
public sealed class RestApiStressTests
{
    [RootFact]
    public async Task Parallel_registrations_and_deletions_leave_the_kernel_map_and_the_registry_identical()
    {
        await using var api = await StartAsync();
        var trees = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SleeperTree.StartAsync(children: 2)));
        try
        {
            var random = new Random(20261122);
            var requests = Enumerable.Range(0, 200).Select(_ => (Register: random.Next(2) == 0, trees[random.Next(trees.Length)].Pid)).ToList();

            var outcomes = await Task.WhenAll(requests.Select(async request =>
            {
                using var response = request.Register ? await api.RegisterAsync(request.Pid) : await api.UnregisterAsync(request.Pid);
                return (request.Register, request.Pid, response.StatusCode);
            }));

            Assert.All(outcomes, o => Assert.Contains(o.StatusCode, o.Register
                ? new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }
                : new[] { HttpStatusCode.OK, HttpStatusCode.NotFound }));
            var registered = (await api.ListAsync()).ToHashSet();
            var expected = trees.Where(t => registered.Contains(t.Pid))
                .SelectMany(t => t.Children().Append(t.Pid).Select(pid => (pid, root: t.Pid)))
                .ToDictionary(e => e.pid, e => e.root);
            Assert.Equal(expected, api.KernelMap());
            Assert.Subset(trees.Select(t => t.Pid).ToHashSet(), registered);
            // Per process, successful registrations and deletions alternate, starting with a registration.
            foreach (var tree in trees)
            {
                var created = outcomes.Count(o => o.Pid == tree.Pid && o.StatusCode == HttpStatusCode.Created);
                var deleted = outcomes.Count(o => o.Pid == tree.Pid && o.StatusCode == HttpStatusCode.OK);
                Assert.Equal(registered.Contains(tree.Pid) ? 1 : 0, created - deleted);
            }
            Assert.Contains(outcomes, o => o.StatusCode == HttpStatusCode.Conflict);
            Assert.Contains(outcomes, o => o.StatusCode == HttpStatusCode.NotFound);
        }
        finally
        {
            foreach (var tree in trees)
            {
                tree.Dispose();
            }
        }
    }

    [RootFact]
    public async Task Thousands_of_random_and_malformed_requests_get_no_5xx_and_leave_the_tracer_serving()
    {
        await using var api = await StartAsync("--max-tracked-processes", "64");
        using var writer = WriterProcess.StartHeld("-n", "7");
        var fuzz = new RequestFuzzer(seed: 4242, api.Port, writer.Pid, api.Tracer.Pid);

        const int requests = 4000, workers = 4;
        var failures = new List<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<HttpStatusCode, int>();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            for (var i = worker; i < requests; i += workers)
            {
                using var request = fuzz.Request(i);
                var description = $"#{i} {request.Method} {request.RequestUri}";
                using var response = await api.Http.SendAsync(request);
                statuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                if ((int)response.StatusCode >= 500)
                {
                    var body = await response.Content.ReadAsStringAsync();
                    lock (failures)
                    {
                        failures.Add($"{description}: {(int)response.StatusCode} {body}");
                    }
                }
            }
        }));
        for (var i = 0; i < 30; i++)
        {
            await ResetMidBodyAsync(api.Port);
        }
        for (var i = 0; i < 300; i++)
        {
            var raw = fuzz.RawRequest(i);
            var status = await SendRawAsync(api.Port, raw);
            if (status >= 500 && !(status == 505 && HasUnsupportedVersion(raw)))
            {
                failures.Add($"raw #{i}: {status} {Encoding.UTF8.GetString(raw[..Math.Min(raw.Length, 60)]).ReplaceLineEndings("|")}");
            }
        }

        Assert.Empty(failures);
        // The run reached every answer the handlers give, not just the router's.
        Assert.Superset(new HashSet<HttpStatusCode>
        {
            HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed,
            HttpStatusCode.Conflict, HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.UnsupportedMediaType,
        }, statuses.Keys.ToHashSet());
        Assert.False(api.Tracer.HasExited);
        Assert.DoesNotContain(" ERR ", api.Tracer.Stderr);
        Assert.Equal(HttpStatusCode.OK, (await api.Http.GetAsync("/healthz")).StatusCode);
        foreach (var pid in await api.ListAsync())
        {
            Assert.Equal(HttpStatusCode.OK, (await api.UnregisterAsync(pid)).StatusCode);
        }
        Assert.Empty(api.KernelMap());
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(writer.Pid)).StatusCode);
        writer.Release();
        var events = await api.Tracer.WaitForEventsAsync(e => WriterLine.TryParse(e, out var line) && line.Pid == writer.Pid, 7, TimeSpan.FromSeconds(30));
        Assert.Equal(7, events.Count);
    }

    /// <summary>
    /// A request line whose version is not HTTP/1.0 or HTTP/1.1: Kestrel answers 505
    /// before any of the tracer's code runs, the one 5xx HTTP prescribes for a client's fault.
    /// </summary>
    private static bool HasUnsupportedVersion(byte[] raw)
    {
        var text = Encoding.Latin1.GetString(raw);
        var end = text.IndexOf("\r\n", StringComparison.Ordinal);
        var line = end < 0 ? text : text[..end];
        return line[(line.LastIndexOf(' ') + 1)..] is not ("HTTP/1.0" or "HTTP/1.1");
    }

    /// <summary>A client that dies while the handler reads its body: the connection is reset, nothing is answered.</summary>
    private static async Task ResetMidBodyAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /pids HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"pid\":"));
        await Task.Delay(20);
        client.Client.LingerState = new LingerOption(true, 0); // close with RST
    }

    /// <summary>Sends raw bytes, half-closes, and returns the status of the answer (0 when the server just closed).</summary>
    private static async Task<int> SendRawAsync(int port, byte[] bytes)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(bytes);
        client.Client.Shutdown(SocketShutdown.Send);
        var buffer = new byte[12];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token)) > 0)
            {
                read += n;
            }
        }
        catch (IOException)
        {
            // Reset by the server: not an answer, not a 5xx.
        }
        var head = Encoding.ASCII.GetString(buffer, 0, read);
        return head.StartsWith("HTTP/1.", StringComparison.Ordinal) && read == 12
            ? int.Parse(head.AsSpan(9, 3), CultureInfo.InvariantCulture)
            : 0;
    }

    /// <summary>
    /// Random and malformed requests from a seed. Registrable pids are only the test's
    /// writer and impossible ones, so no process outside the test is ever traced.
    /// </summary>
    private sealed class RequestFuzzer(int seed, int port, int writerPid, int tracerPid)
    {
        private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "pids"];
        private static readonly string[] ContentTypes =
        [
            "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json; charset=utf-16",
            "application/json;;;", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "application/jsonx", "*/*", "", ";", "application/json; charset=\"utf-8\"", "application/problem+json",
        ];
        private readonly int _pidMax = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max"), CultureInfo.InvariantCulture);

        public HttpRequestMessage Request(int index)
        {
            var random = new Random(HashCode.Combine(seed, index));
            var method = random.Next(3) == 0 ? Pick(random, Methods) : random.Next(2) == 0 ? "POST" : "GET";
            var request = new HttpRequestMessage(new HttpMethod(method), Path(random));
            if (method is not ("GET" or "HEAD" or "TRACE") || random.Next(10) == 0)
            {
                var content = new ByteArrayContent(Body(random));
                if (random.Next(10) > 0)
                {
                    content.Headers.TryAddWithoutValidation("Content-Type", Pick(random, ContentTypes));
                }
                request.Content = content;
            }
            if (random.Next(5) == 0)
            {
                request.Headers.TryAddWithoutValidation(Pick(random, ["Authorization", "Accept", "Cookie", "X-Forwarded-For", "Origin", "Expect"]), Garbage(random, 0, 200, ascii: true));
            }
            if (random.Next(20) == 0)
            {
                request.Headers.Host = Pick(random, ["localhost", $"127.0.0.1:{port}", "[::1]", "evil.example", "127.0.0.1.nip.io", "0x7f000001", $"localhost:{port}"]);
            }
            return request;
        }

        public byte[] RawRequest(int index)
        {
            var random = new Random(HashCode.Combine(seed, -1 - index));
            var body = """{"pid": 1}""";
            var host = $"Host: 127.0.0.1:{port}\r\n";
            string[] shapes =
            [
                $"POST /pids HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
                $"POST /pids HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{body}",
                $"POST /pids HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{body}",
                $"POST /pids HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n",
                $"POST /pids HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                $"GET /pids HTTP/1.1\r\n\r\n",
                $"GET /pids HTTP/1.0\r\n\r\n",
                $"GET /pids HTTP/9.9\r\n{host}\r\n",
                $"GET {new string('a', 20000)} HTTP/1.1\r\n{host}\r\n",
                $"GET /pids HTTP/1.1\r\n{host}X: {new string('b', 40000)}\r\n\r\n",
                $"GET /pids/%ZZ HTTP/1.1\r\n{host}\r\n",
                $"DELETE /pids/1 HTTP/1.1\r\n{host}Content-Length: 3\r\n\r\nabc",
                $"\r\n\r\n\r\n",
            ];
            var text = random.Next(4) > 0 ? shapes[index % shapes.Length] : Garbage(random, 1, 3000);
            var bytes = Encoding.UTF8.GetBytes(text);
            if (random.Next(3) == 0 && bytes.Length > 0)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }
            return bytes;
        }

        private string Path(Random random) => random.Next(12) switch
        {
            0 => "/healthz",
            1 => "/openapi.json",
            2 => "/",
            3 => "/pids/" + Uri.EscapeDataString(Garbage(random, 0, 40)),
            4 => "/pids/" + Pick(random, ["0", "-1", "1e3", "99999999999999999999", $"{writerPid}", $"{tracerPid}", "%00", "1/2", "..", "+5", " 5", "٣"]),
            5 => "/" + Uri.EscapeDataString(Garbage(random, 1, 30)) + "/" + Uri.EscapeDataString(Garbage(random, 0, 30)),
            6 => "/pids?" + Uri.EscapeDataString(Garbage(random, 0, 30)),
            7 => "/pids/" + new string('9', random.Next(1, 3000)),
            8 => $"/pids/{writerPid}",
            _ => "/pids",
        };

        private byte[] Body(Random random)
        {
            var body = random.Next(10) switch
            {
                0 => RandomBytes(random, random.Next(0, 6000)),
                1 => Encoding.UTF8.GetBytes(new string('[', random.Next(1, 5000)) + new string(']', random.Next(0, 5000))),
                2 => Encoding.UTF8.GetBytes($$"""{"pid": {{Pick(random, ["1e400", "-0", "0.0", "\"\\u0000\"", "\"\\ud800\"", "[]", "{}", "true", new string('7', 400)])}}}"""),
                3 => Encoding.UTF8.GetBytes($$"""{"pid": {{writerPid}}, "x": "{{new string('x', random.Next(4000, 4200))}}"}"""),
                4 => Mutate(random, Encoding.UTF8.GetBytes($$"""{"pid": {{ImpossiblePid(random)}}, "note": "a"}""")),
                5 => Encoding.UTF8.GetBytes(Garbage(random, 0, 100)),
                _ => Encoding.UTF8.GetBytes($$"""{"pid": {{Pick(random, [$"{writerPid}", $"{tracerPid}", $"{ImpossiblePid(random)}"])}}}"""),
            };
            return IsForeignPid(body) ? Encoding.UTF8.GetBytes("{}") : body;
        }

        private string ImpossiblePid(Random random) => Pick(random, ["0", "-1", $"{_pidMax + 1}", $"{int.MaxValue}", $"{long.MaxValue}", "-2147483649"]);

        /// <summary>A body that would register some other process on this machine: never sent.</summary>
        private bool IsForeignPid(byte[] body)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                return document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.EnumerateObject().Any(p => p.NameEquals("pid") && p.Value.ValueKind == JsonValueKind.Number
                        && p.Value.TryGetInt32(out var pid) && pid > 0 && pid <= _pidMax && pid != writerPid && pid != tracerPid);
            }
            catch (JsonException)
            {
                return false;
            }
        }

        private static byte[] Mutate(Random random, byte[] bytes)
        {
            for (var i = random.Next(1, 4); i > 0 && bytes.Length > 0; i--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }
            return bytes;
        }

        private static byte[] RandomBytes(Random random, int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        private static string Garbage(Random random, int min, int max, bool ascii = false)
        {
            // HttpClient itself refuses non-ASCII header values.
            var alphabet = ascii ? "abcXYZ019 {}[]\":,./\\%?#&=+-_~'<>\t" : "abcXYZ019 {}[]\":,./\\%?#&=+-_~'<>é€\t";
            return new string([.. Enumerable.Range(0, random.Next(min, max)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        }

        private static T Pick<T>(Random random, T[] choices) => choices[random.Next(choices.Length)];
    }
}
