namespace WriteTracer.Tracking;

/// <summary>The fields of /proc/PID/status that say who a process is and what it may do.</summary>
/// <param name="Uids">Real, effective, saved and filesystem uid (the Uid: line).</param>
/// <param name="EffectiveCapabilities">CapEff: the capability bits in force.</param>
/// <param name="NamespacePids">
/// NSpid: the process's pid in its own pid namespace and every ancestor's, outermost (the
/// reader's) first; one entry when it is in the reader's namespace.
/// </param>
internal sealed record ProcessStatus(int Tgid, int ParentPid, IReadOnlyList<int> Uids, ulong EffectiveCapabilities, IReadOnlyList<int> NamespacePids)
{
    /// <summary>CAP_SYS_PTRACE: may trace any process.</summary>
    public const int CapSysPtrace = 19;

    public int RealUid => Uids[0];

    public bool HasCapability(int capability) => (EffectiveCapabilities & (1UL << capability)) != 0;

    /// <summary>Real, effective and saved uid are all uid (ptrace's PTRACE_MODE_REALCREDS test).</summary>
    public bool IsOwnedBy(int uid) => Uids[0] == uid && Uids[1] == uid && Uids[2] == uid;

    /// <summary>The process's pid in its own namespace (the last NSpid entry).</summary>
    public int OwnNamespacePid => NamespacePids[^1];

    /// <summary>Parses the text of /proc/PID/status; false when a field it needs is missing or malformed.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out ProcessStatus? status)
    {
        status = null;
        int tgid = 0, parent = -1;
        int[]? uids = null, nsPids = null;
        ulong? capabilities = null;
        foreach (var line in text.EnumerateLines())
        {
            var colon = line.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }
            var value = line[(colon + 1)..].Trim();
            switch (line[..colon])
            {
                case "Tgid" when int.TryParse(value, out var number):
                    tgid = number;
                    break;
                case "PPid" when int.TryParse(value, out var number):
                    parent = number;
                    break;
                case "Uid":
                    uids = Numbers(value);
                    break;
                case "NSpid":
                    nsPids = Numbers(value);
                    break;
                case "CapEff" when ulong.TryParse(value, System.Globalization.NumberStyles.AllowHexSpecifier, null, out var bits):
                    capabilities = bits;
                    break;
            }
        }
        if (tgid <= 0 || parent < 0 || uids is not { Length: 4 } || capabilities is null)
        {
            return false;
        }
        // Kernels before 4.1 have no NSpid: every process is then seen in the reader's namespace.
        status = new ProcessStatus(tgid, parent, uids, capabilities.Value, nsPids is { Length: > 0 } ? nsPids : [tgid]);
        return true;
    }

    private static int[]? Numbers(ReadOnlySpan<char> text)
    {
        var numbers = new List<int>();
        foreach (var range in text.SplitAny(" \t"))
        {
            var part = text[range];
            if (part.IsEmpty)
            {
                continue;
            }
            if (!int.TryParse(part, out var number))
            {
                return null;
            }
            numbers.Add(number);
        }
        return [.. numbers];
    }
}
