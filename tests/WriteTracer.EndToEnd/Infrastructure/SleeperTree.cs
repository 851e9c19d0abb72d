using System.Diagnostics;
using System.Globalization;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// A shell with sleeping children: some forked at start, one more for each line it
/// reads, so a test can make a tracked process fork when it chooses.
/// </summary>
internal sealed class SleeperTree : IDisposable
{
    private readonly Process _shell;

    private SleeperTree(Process shell) => _shell = shell;

    public int Pid => _shell.Id;

    /// <summary>Starts the shell and returns once its first children exist.</summary>
    public static async Task<SleeperTree> StartAsync(int children)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"i=0; while [ $i -lt {children} ]; do sleep 600 & i=$((i+1)); done; while read line; do sleep 600 & done; wait");
        var tree = new SleeperTree(Process.Start(start)!);
        await tree.WaitForChildrenAsync(children);
        return tree;
    }

    public IReadOnlyList<int> Children()
    {
        try
        {
            var text = File.ReadAllText($"/proc/{Pid}/task/{Pid}/children");
            return [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Has the shell fork one more child; returns its pid.</summary>
    public async Task<int> ForkAsync()
    {
        var before = Children();
        await _shell.StandardInput.WriteLineAsync("fork");
        await _shell.StandardInput.FlushAsync();
        var after = await WaitForChildrenAsync(before.Count + 1);
        return after.Except(before).Single();
    }

    public void Dispose()
    {
        if (!_shell.HasExited)
        {
            _shell.Kill(entireProcessTree: true);
        }
        _shell.Dispose();
    }

    private async Task<IReadOnlyList<int>> WaitForChildrenAsync(int count)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var children = Children();
            if (children.Count >= count)
            {
                return children;
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"sh {Pid} has {children.Count} of {count} children");
            }
            await Task.Delay(10);
        }
    }
}
