using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>
/// Mirror of <c>struct wt_file_identity</c>: what identifies the file behind a write's fd,
/// with <c>--resolve-fds</c> (all zero otherwise, or when the fd was not open). Equal
/// identities name the same file through the same mount, whichever process holds the fd;
/// another file, or the same one renamed, moved or deleted, has another identity.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FileIdentity : IEquatable<FileIdentity>
{
    public const ushort DeletedFlag = 0x1;
    public const ushort PseudoFlag = 0x2;

    /// <summary>st_mode's file type bits, and the two types /proc names after their inode.</summary>
    public const int TypeMask = 0xF000, Fifo = 0x1000, Socket = 0xC000;

    public ulong Ino;
    /// <summary>The dentry's name hash (salted with its parent) xor the mount's id.</summary>
    public uint PathHash;
    /// <summary>i_mode: the file type and permission bits.</summary>
    public ushort Mode;
    public ushort Flags;

    /// <summary>False when the kernel found no file (the feature is off, or the fd was not open).</summary>
    public readonly bool IsKnown => Ino != 0 || Mode != 0;

    public readonly int Type => Mode & TypeMask;

    /// <summary>On a kernel-internal mount (pipefs, sockfs, anon_inodefs): /proc names it by kind and inode, not by a path.</summary>
    public readonly bool IsPseudo => (Flags & PseudoFlag) != 0;

    public readonly bool Equals(FileIdentity other) =>
        Ino == other.Ino && PathHash == other.PathHash && Mode == other.Mode && Flags == other.Flags;

    public override readonly bool Equals(object? obj) => obj is FileIdentity other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(Ino, PathHash, Mode, Flags);
}
