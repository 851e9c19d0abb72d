using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WriteTracer.Bpf;

/// <summary>The fixed part of an events-ring record (<see cref="WriteEvent"/>, <see cref="ProcessEvent"/>), followed by its data.</summary>
internal interface IRingRecord
{
    /// <summary>Bytes of data the kernel put after the fixed part.</summary>
    uint DataLength { get; }
}

/// <summary>Decoding of the events ring's records: the kind first, then the struct it names.</summary>
internal static class RingRecord
{
    /// <summary>The record's kind (its first four bytes), or null when it is too short to have one.</summary>
    public static RecordKind? KindOf(ReadOnlySpan<byte> record) =>
        record.Length < sizeof(RecordKind) ? null : MemoryMarshal.Read<RecordKind>(record);

    /// <summary>Splits a record into its fixed part and its data (at most what the record holds); false when too short.</summary>
    public static bool TryDecode<T>(ReadOnlySpan<byte> record, out T header, out ReadOnlySpan<byte> data) where T : unmanaged, IRingRecord
    {
        var size = Unsafe.SizeOf<T>();
        if (record.Length < size)
        {
            header = default;
            data = default;
            return false;
        }
        header = MemoryMarshal.Read<T>(record);
        data = record.Slice(size, (int)Math.Min(header.DataLength, (uint)(record.Length - size)));
        return true;
    }
}
