using System.Globalization;
using WriteTracer.Bpf;
using WriteTracer.Native;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// The running tracer's tracked map as the kernel holds it, read through an fd of our
/// own: the map ids come from /proc/PID/fdinfo, the name picks the tracked map.
/// </summary>
internal static class KernelTrackedMap
{
    /// <summary>Every entry: pid → the root pid it is tracked under.</summary>
    public static Dictionary<int, int> Read(int tracerPid)
    {
        using var handle = Open(tracerPid);
        return new TrackedProcessMap(handle.Fd).Snapshot().ToDictionary(e => e.Pid, e => e.RootPid);
    }

    private static SafeBpfMapHandle Open(int tracerPid)
    {
        foreach (var id in MapIds(tracerPid))
        {
            var handle = SafeBpfMapHandle.OpenById(id);
            if (handle.Name() == "tracked")
            {
                return handle;
            }
            handle.Dispose();
        }
        throw new InvalidOperationException($"process {tracerPid} holds no BPF map named 'tracked'");
    }

    private static IEnumerable<uint> MapIds(int pid)
    {
        foreach (var path in Directory.EnumerateFiles($"/proc/{pid}/fdinfo"))
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (IOException)
            {
                continue; // the fd was closed meanwhile
            }
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("map_id:", StringComparison.Ordinal))
                {
                    yield return uint.Parse(line.AsSpan("map_id:".Length).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
    }
}
