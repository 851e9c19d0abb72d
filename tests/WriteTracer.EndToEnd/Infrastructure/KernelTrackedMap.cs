using System.Globalization;
using WriteTracer.Bpf;
using WriteTracer.Native;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// The running tracer's tracked map as the kernel holds it, read through an fd of our
/// own: the map ids come from /proc/PID/fdinfo, the name picks the tracked map.
/// </summary>
internal static unsafe class KernelTrackedMap
{
    /// <summary>
    /// Every entry: pid → the root pid it is tracked under. The bitmap in front of the map
    /// must hold exactly these pids (read while nothing forks or exits under the tracer).
    /// </summary>
    public static Dictionary<int, int> Read(int tracerPid)
    {
        using var handle = Open(tracerPid, "tracked");
        var entries = TrackedProcessMap.Snapshot(handle.Fd).ToDictionary(e => e.Pid, e => e.RootPid);
        var bits = ReadBitmap(tracerPid);
        Assert.True(bits.SetEquals(entries.Keys),
            $"tracked_bits holds [{string.Join(", ", bits.Order())}] but tracked holds [{string.Join(", ", entries.Keys.Order())}]");
        return entries;
    }

    /// <summary>The pids whose bit is set in tracked_bits (bit pid % 64 of word pid / 64).</summary>
    private static HashSet<int> ReadBitmap(int tracerPid)
    {
        using var handle = Open(tracerPid, "tracked_bits");
        var words = handle.MaxEntries();
        var page = (nuint)Environment.SystemPageSize;
        using var mapping = SafeMemoryMapHandle.Map(handle.Fd, ((nuint)words * sizeof(ulong) + page - 1) / page * page, 0,
            writable: false, "mapping tracked_bits");
        var pids = new HashSet<int>();
        var word = (ulong*)mapping.Address;
        for (var i = 0; i < words; i++)
        {
            for (var bit = 0; word[i] != 0 && bit < 64; bit++)
            {
                if ((word[i] >> bit & 1) != 0)
                {
                    pids.Add(i * 64 + bit);
                }
            }
        }
        return pids;
    }

    private static SafeBpfMapHandle Open(int tracerPid, string name)
    {
        foreach (var id in MapIds(tracerPid))
        {
            var handle = SafeBpfMapHandle.OpenById(id);
            if (handle.Name() == name)
            {
                return handle;
            }
            handle.Dispose();
        }
        throw new InvalidOperationException($"process {tracerPid} holds no BPF map named '{name}'");
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
