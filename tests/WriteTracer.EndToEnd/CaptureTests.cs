using System.Text.Json;
using WriteTracer.EndToEnd.Infrastructure;

namespace WriteTracer.EndToEnd;

/// <summary>Every write of a process, its threads and all its descendants, exactly once, bytes intact.</summary>
public sealed class CaptureTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Captures_every_write_of_threads_children_and_grandchild_exactly_once()
    {
        const int threads = 4, lines = 2000, children = 20;
        using var writer = WriterProcess.StartHeld("-t", $"{threads}", "-n", $"{lines}", "-c", $"{children}", "-g");
        await using var tracer = TracerProcess.Start("-p", $"{writer.Pid}");
        await tracer.WaitUntilTracingAsync();
        writer.Release();
        Assert.Equal(0, await writer.WaitForExitAsync(Timeout));

        const int expected = threads * lines + (children + 1) * lines;
        var events = await tracer.WaitForEventsAsync(IsWriterLine, expected, Timeout);
        Assert.Equal(0, await tracer.StopAsync());

        var seen = new HashSet<WriterLine>();
        foreach (var e in events)
        {
            Assert.True(WriterLine.TryParse(e, out var line));
            Assert.True(seen.Add(line), $"duplicate event {line}");
            Assert.Equal(line.Pid, e.GetProperty("pid").GetInt32());
            Assert.Equal(line.Tid, e.GetProperty("tid").GetInt32());
            Assert.Equal(writer.Pid, e.GetProperty("root_pid").GetInt32());
            Assert.Equal(1, e.GetProperty("fd").GetInt32());
            Assert.Equal(line.Text.Length, e.GetProperty("count").GetInt32());
            Assert.Equal(line.Text, e.GetProperty("data").GetString());
            Assert.Equal("writer", e.GetProperty("comm").GetString());
            Assert.False(e.TryGetProperty("truncated", out _));
        }
        Assert.Equal(expected, seen.Count);

        var parentThreads = seen.Where(l => l.Pid == writer.Pid).Select(l => l.Tid).Distinct().ToList();
        Assert.Equal(threads, parentThreads.Count);
        var descendants = seen.Where(l => l.Pid != writer.Pid).Select(l => l.Pid).Distinct().ToList();
        Assert.Equal(children + 1, descendants.Count);
        foreach (var group in seen.GroupBy(l => l.Tid))
        {
            Assert.Equal(Enumerable.Range(0, lines), group.Select(l => l.Seq).Order());
        }
        Assert.Contains("dropped: kernel 0, stdout 0", tracer.Stderr);
    }

    private static bool IsWriterLine(JsonElement e) => WriterLine.TryParse(e, out _);
}
