using System.Runtime.InteropServices;
using System.Text;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>
/// The head of <c>struct bpf_map_info</c> (linux/bpf.h) up to the name: the kernel fills
/// as much as the caller's length asks for.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfMapInfo
{
    public uint Type;
    public uint Id;
    public uint KeySize;
    public uint ValueSize;
    public uint MaxEntries;
    public uint MapFlags;
    private fixed byte _name[16];

    public readonly string Name
    {
        get
        {
            fixed (byte* name = _name)
            {
                var span = new ReadOnlySpan<byte>(name, 16);
                var end = span.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
            }
        }
    }
}
