using System.Diagnostics;
using System.Net;
using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;
using static WriteTracer.EndToEnd.Infrastructure.ApiTracer;

namespace WriteTracer.EndToEnd;

/// <summary>utilities/python/writetracer.py against the real server, token required.</summary>
public sealed class PythonClientTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wt-python-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootFact]
    public async Task The_python_client_traces_its_block_lists_and_reports_errors()
    {
        var tokenFile = Path.Combine(_dir, "token");
        File.WriteAllText(tokenFile, "py-t0ken\n");
        await using var api = await StartAsync("--api-token-file", tokenFile);
        using var other = WriterProcess.StartHeld("-n", "1");
        var script = Path.Combine(_dir, "client_test.py");
        File.WriteAllText(script, $$"""
            import json, os, sys
            sys.path.insert(0, {{JsonSerializer.Serialize(Path.Combine(Repository.Root, "utilities", "python"))}})
            from writetracer import WriteTracer, WriteTracerError

            tracer = WriteTracer("http://127.0.0.1:{{api.Port}}", token_file={{JsonSerializer.Serialize(tokenFile)}})
            report = {"healthy": tracer.healthy()}
            with tracer.tracing() as registration:
                report["registration"] = registration
                report["listed_inside"] = [p["pid"] for p in tracer.list()]
                for i in range(50):
                    os.write(1, f"inside {i}\n".encode())
            report["listed_after"] = [p["pid"] for p in tracer.list()]
            for i in range(50):
                os.write(1, f"outside {i}\n".encode())

            report["other"] = tracer.register({{other.Pid}})
            report["other_get"] = tracer.get({{other.Pid}})["pid"]
            report["other_deleted"] = tracer.unregister({{other.Pid}})
            errors = []
            for call in (lambda: tracer.register(0), lambda: tracer.unregister({{other.Pid}}),
                         lambda: WriteTracer("http://127.0.0.1:{{api.Port}}", token="wrong").list()):
                try:
                    call()
                except WriteTracerError as e:
                    errors.append([e.status, e.message])
            report["errors"] = errors
            with open({{JsonSerializer.Serialize(Path.Combine(_dir, "report.json"))}}, "w") as f:
                json.dump(report, f)
            """);

        var python = Process.Start(new ProcessStartInfo("python3", [script]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = await python.StandardOutput.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.Equal(0, python.ExitCode);
        Assert.Equal(100, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        using var reportDocument = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "report.json")));
        var report = reportDocument.RootElement;
        Assert.True(report.GetProperty("healthy").GetBoolean());
        var registration = report.GetProperty("registration");
        Assert.Equal(python.Id, registration.GetProperty("pid").GetInt32());
        Assert.Equal($"tracking process {python.Id} (python3) with 1 thread in 1 process", registration.GetProperty("message").GetString());
        Assert.Equal([python.Id], report.GetProperty("listed_inside").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Empty(report.GetProperty("listed_after").EnumerateArray());
        Assert.Equal(other.Pid, report.GetProperty("other").GetProperty("pid").GetInt32());
        Assert.Equal(other.Pid, report.GetProperty("other_get").GetInt32());
        Assert.Equal($"stopped tracking process {other.Pid} (writer) and its descendants", report.GetProperty("other_deleted").GetProperty("message").GetString());
        Assert.Equal(
            [
                "400 pid 0 is not a positive process id",
                $"404 process {other.Pid} is not registered",
                "401 this API requires 'Authorization: Bearer TOKEN' with the token of --api-token-file",
            ],
            report.GetProperty("errors").EnumerateArray().Select(e => $"{e[0].GetInt32()} {e[1].GetString()}"));

        // The block's writes, and nothing written after it (a sentinel write orders the stream).
        using var sentinel = WriterProcess.StartHeld("-n", "1");
        api.Http.DefaultRequestHeaders.Authorization = new("Bearer", "py-t0ken");
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(sentinel.Pid)).StatusCode);
        sentinel.Release();
        await api.Tracer.WaitForEventsAsync(e => e.GetProperty("pid").GetInt32() == sentinel.Pid, 1, TimeSpan.FromSeconds(30));
        var written = api.Tracer.Events.Where(e => e.GetProperty("pid").GetInt32() == python.Id).Select(e => e.GetProperty("data").GetString());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"inside {i}\n"), written);
    }
}
