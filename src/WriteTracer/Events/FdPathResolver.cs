using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using WriteTracer.Bpf;
using WriteTracer.Native;

namespace WriteTracer.Events;

/// <summary>
/// The "fd_path" of events (<c>--resolve-fds</c>): what readlink /proc/PID/fd/FD shows for
/// the file a write went to. Paths are cached by the file identity the kernel puts in each
/// event, not by process and fd: equal identities name the same file through the same
/// mount, so a path is read from /proc once per file, whichever process writes to it (a
/// forked child reuses what its parent resolved), and a close and reopen, a dup2 or an
/// exec that closed the fd is simply another identity. A cache hit costs one lookup and
/// allocates nothing. Used by the reader thread only.
/// </summary>
/// <remarks>
/// A miss reads the link of the writing thread's fd, then checks that it still names the
/// event's file (same inode number and type). When it does not (the fd was reused since
/// the write, or the process has exited), the same fd of the registered root is tried: an
/// inherited stdout or a shell's redirection is often still open there. Otherwise the event
/// has no path. Pipes and sockets need no /proc: the kernel names them after their inode
/// ("pipe:[INODE]", "socket:[INODE]"). The cache is bounded: entries unused for
/// <see cref="PruneInterval"/> are dropped, and a cache full of entries in use starts over.
/// </remarks>
internal sealed unsafe class FdPathResolver(int capacity = FdPathResolver.DefaultCapacity, TimeProvider? time = null)
{
    /// <summary>PATH_MAX: the kernel names no file with more (readlink fails with ENAMETOOLONG).</summary>
    public const int MaxPathBytes = 4096;

    public const int DefaultCapacity = 8192;

    /// <summary>How long an unused path stays cached.</summary>
    public static readonly TimeSpan PruneInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long a failed lookup is not retried for the same process and file (a burst of events from an exited process).</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<FileIdentity, Entry> _paths = [];
    private readonly HashSet<(uint Pid, FileIdentity File)> _failed = [];
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly byte[] _target = new byte[MaxPathBytes];
    private long _lastPrune;
    private long _lastRetry;

    /// <summary>Links read in /proc.</summary>
    public long ProcReads { get; private set; }

    /// <summary>Paths cached.</summary>
    public int Count => _paths.Count;

    /// <summary>The path of the event's file, or empty when it cannot be named (see the remarks).</summary>
    public ReadOnlySpan<byte> Resolve(in WriteEvent e)
    {
        var identity = e.File;
        if (!identity.IsKnown)
        {
            return default;
        }
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_paths, identity);
        if (!Unsafe.IsNullRef(ref entry))
        {
            entry.Used = true;
            return entry.Path;
        }
        var path = IsNamedByInode(identity) ? NameByInode(identity) : ReadLink(e, identity);
        if (path is null)
        {
            return default;
        }
        PruneIfDue();
        _paths[identity] = new Entry(path);
        return path;
    }

    /// <summary>Anonymous pipes and sockets: /proc names them "pipe:[INODE]" and "socket:[INODE]".</summary>
    private static bool IsNamedByInode(FileIdentity identity) =>
        identity.IsPseudo && identity.Type is FileIdentity.Fifo or FileIdentity.Socket;

    private static byte[] NameByInode(FileIdentity identity)
    {
        Span<byte> name = stackalloc byte[32];
        var written = 0;
        _ = identity.Type == FileIdentity.Fifo
            ? Utf8.TryWrite(name, $"pipe:[{identity.Ino}]", out written)
            : Utf8.TryWrite(name, $"socket:[{identity.Ino}]", out written);
        return name[..written].ToArray();
    }

    /// <summary>
    /// The fd's link in the writing thread's table (right even when its leader has exited),
    /// then in its process's, then in its root's; null when none names the event's file.
    /// </summary>
    private byte[]? ReadLink(in WriteEvent e, FileIdentity identity)
    {
        if (_time.GetElapsedTime(_lastRetry) >= RetryInterval || _failed.Count >= capacity)
        {
            _failed.Clear();
            _lastRetry = _time.GetTimestamp();
        }
        if (_failed.Contains((e.Pid, identity)))
        {
            return null;
        }
        Span<byte> link = stackalloc byte[80];
        Utf8.TryWrite(link, $"/proc/{e.Pid}/task/{e.Tid}/fd/{e.Fd}\0", out _);
        var path = ReadLink(link, identity);
        if (path is null && e.Tid != e.Pid)
        {
            Utf8.TryWrite(link, $"/proc/{e.Pid}/fd/{e.Fd}\0", out _);
            path = ReadLink(link, identity);
        }
        if (path is null && e.RootPid != e.Pid && !e.CgroupRoot)
        {
            Utf8.TryWrite(link, $"/proc/{e.RootPid}/fd/{e.Fd}\0", out _);
            path = ReadLink(link, identity);
        }
        if (path is null)
        {
            _failed.Add((e.Pid, identity));
        }
        return path;
    }

    /// <summary>The link's target when the file behind it is the event's (same inode number and type).</summary>
    private byte[]? ReadLink(ReadOnlySpan<byte> link, FileIdentity identity)
    {
        ProcReads++;
        nint length;
        fixed (byte* path = link)
        fixed (byte* target = _target)
        {
            length = Interop.Libc.ReadLink(path, target, (nuint)_target.Length);
            // Checked after the read: a target read before the fd was reused fails the check.
            if (length <= 0 || length >= _target.Length
                || Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, 0, Interop.Libc.STATX_TYPE | Interop.Libc.STATX_INO, out var stat) != 0
                || stat.Ino != identity.Ino || (stat.Mode & FileIdentity.TypeMask) != identity.Type)
            {
                return null;
            }
        }
        return _target.AsSpan(0, (int)length).ToArray();
    }

    /// <summary>
    /// Before an insertion, at most once per interval or when full: drops what was not used
    /// since the last prune. A cache still full holds only files in use: it starts over.
    /// </summary>
    private void PruneIfDue()
    {
        if (_paths.Count < capacity && _time.GetElapsedTime(_lastPrune) < PruneInterval)
        {
            return;
        }
        _lastPrune = _time.GetTimestamp();
        foreach (var identity in _paths.Keys)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_paths, identity);
            if (entry.Used)
            {
                entry.Used = false;
            }
            else
            {
                _paths.Remove(identity);
            }
        }
        if (_paths.Count >= capacity)
        {
            _paths.Clear();
        }
    }

    private struct Entry(byte[] path)
    {
        public readonly byte[] Path = path;
        public bool Used = true;
    }
}
