using System.Runtime.InteropServices;

namespace WriteTracer.Native;

/// <summary>
/// The head of <c>struct statx</c> (linux/stat.h), whose layout, unlike struct stat's,
/// is the same on every architecture; the reserved tail makes up its 256 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
internal struct StatX
{
    public uint Mask;
    public uint BlockSize;
    public ulong Attributes;
    public uint LinkCount;
    public uint Uid;
    public uint Gid;
    public ushort Mode;
    private readonly ushort _spare0;
    public ulong Ino;
}
