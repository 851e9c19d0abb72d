using System.Globalization;
using System.Text;
using WriteTracer.Native;

namespace WriteTracer.Tracking;

/// <summary>
/// The cgroup v2 hierarchy as the file system shows it: where it is mounted (found in
/// /proc/self/mountinfo: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on
/// hybrid ones), which directory a registration's path names, a cgroup's id (its
/// directory's inode number, the kernel's cgroup id) and the processes of a subtree.
/// </summary>
internal sealed class CgroupHierarchy(string mountPoint)
{
    public string MountPoint => mountPoint;

    /// <summary>The cgroup2 mount of mountinfo's text, or null when there is none (a cgroup v1-only host).</summary>
    public static string? FindMountPoint(string mountInfo)
    {
        foreach (var line in mountInfo.Split('\n'))
        {
            // id parent major:minor root mount-point options [optional fields…] - type source super-options
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (separator >= 5 && separator + 1 < fields.Length && fields[separator + 1] == "cgroup2")
            {
                return Unescape(fields[4]);
            }
        }
        return null;
    }

    /// <summary>The host's hierarchy, or null on a host without cgroup v2.</summary>
    public static CgroupHierarchy? FromMountInfo(string path = "/proc/self/mountinfo") =>
        FindMountPoint(File.ReadAllText(path)) is { } mountPoint ? new CgroupHierarchy(mountPoint) : null;

    /// <summary>
    /// The cgroup PATH names: a directory under the mount point, or a path relative to
    /// the mount, with or without the leading slash events show ("/system.slice/x" names
    /// the mount's system.slice/x unless the file system has a /system.slice). False with
    /// the reason (400) when it names something outside the hierarchy; a path inside it
    /// that does not exist resolves, and <see cref="TryStat"/> tells.
    /// </summary>
    public bool TryResolve(string path, out CgroupPath cgroup, out string error)
    {
        cgroup = default;
        error = "";
        if (path.Length == 0 || path.Contains('\0'))
        {
            error = "the cgroup path is empty or holds a NUL byte";
            return false;
        }
        var absolute = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Join(mountPoint, path)));
        if (Path.IsPathRooted(path))
        {
            var asGiven = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            if (IsUnder(asGiven, mountPoint))
            {
                absolute = asGiven;
            }
            else if (Path.Exists(asGiven))
            {
                error = $"'{path}' is not a cgroup v2 directory (the cgroup v2 hierarchy is mounted at {mountPoint}; v1 hierarchies cannot be traced)";
                return false;
            }
        }
        if (!IsUnder(absolute, mountPoint))
        {
            error = $"'{path}' leads outside the cgroup v2 hierarchy mounted at {mountPoint}";
            return false;
        }
        if (absolute == mountPoint.TrimEnd('/'))
        {
            error = "the root cgroup holds every process of the host: register a cgroup below it";
            return false;
        }
        cgroup = new CgroupPath(absolute[mountPoint.TrimEnd('/').Length..], absolute);
        if (Encoding.UTF8.GetByteCount(cgroup.Name) > CgroupNames.MaxNameBytes)
        {
            error = $"the cgroup path is longer than {CgroupNames.MaxNameBytes} bytes";
            return false;
        }
        return true;
    }

    /// <summary>The cgroup's id and owner; false when it does not exist (errno ENOENT) or is not a cgroup directory.</summary>
    public static bool TryStat(CgroupPath cgroup, out ulong id, out uint ownerUid, out bool exists)
    {
        id = 0;
        ownerUid = 0;
        exists = Interop.Libc.StatX(Interop.Libc.AT_FDCWD, cgroup.Directory, Interop.Libc.AT_SYMLINK_NOFOLLOW,
            Interop.Libc.STATX_TYPE | Interop.Libc.STATX_UID | Interop.Libc.STATX_INO, out var stat) == 0;
        if (!exists || (stat.Mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFDIR || !File.Exists(Path.Join(cgroup.Directory, "cgroup.procs")))
        {
            return false;
        }
        id = stat.Ino;
        ownerUid = stat.Uid;
        return true;
    }

    /// <summary>Every process in the cgroup and the cgroups below it (cgroup.procs of each), as of now.</summary>
    public static List<int> Processes(CgroupPath cgroup)
    {
        var processes = new List<int>();
        var pending = new Stack<string>();
        pending.Push(cgroup.Directory);
        while (pending.TryPop(out var directory))
        {
            try
            {
                foreach (var line in File.ReadAllLines(Path.Join(directory, "cgroup.procs")))
                {
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    {
                        processes.Add(pid);
                    }
                }
                foreach (var child in Directory.EnumerateDirectories(directory))
                {
                    pending.Push(child);
                }
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or IOException or UnauthorizedAccessException)
            {
                // A cgroup removed while being listed holds no process.
            }
        }
        return processes;
    }

    private static bool IsUnder(string path, string directory) =>
        path.StartsWith(directory.TrimEnd('/') + "/", StringComparison.Ordinal) || path == directory.TrimEnd('/');

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo (octal).</summary>
    private static string Unescape(string field)
    {
        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && !field.AsSpan(i + 1, 3).ContainsAnyExcept("01234567"))
            {
                bytes.Add(Convert.ToByte(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field.Substring(i, 1)));
            }
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }
}

/// <param name="Name">Relative to the mount, with a leading slash: "/system.slice/nginx.service", as events show it.</param>
/// <param name="Directory">Its directory under the mount point.</param>
internal readonly record struct CgroupPath(string Name, string Directory);
