using System.Runtime.InteropServices;
using System.Text;
using WriteTracer.Bpf;

namespace WriteTracer.Benchmarks;

/// <summary>What the replayed records carry: the payloads of the benchmark workloads.</summary>
public enum Payload
{
    /// <summary>W1: 64-byte text lines of bin/writer.</summary>
    Text64,

    /// <summary>64-byte lines that are not UTF-8 (writer -b), so they go out as data_b64.</summary>
    Binary64,

    /// <summary>W2: 4 KiB text writes, the default 256 bytes captured (truncated).</summary>
    Text4KiB,

    /// <summary>4 KiB text writes captured whole (--capture-bytes 4096).</summary>
    Text4KiBAll,
}

/// <summary>
/// Ring-buffer records as the kernel program emits them for one writer process with a
/// few threads: the write_event header, then the reserved data area of the write's size
/// class, of which <c>captured</c> bytes hold the payload bin/writer would have written.
/// </summary>
internal sealed class RecordSet
{
    // The kernel program's size classes (bpf/write_tracer.h, WT_SMALL_CAPTURE) and the default capture.
    private const int SmallCapture = 128;
    private const int DefaultCapture = 256;
    private const int RecordAlignment = 8;
    private const uint WriterPid = 4242;
    private const int WriterThreads = 4;

    private readonly byte[] _bytes;
    private readonly int[] _offsets;
    private readonly int _length;

    private RecordSet(byte[] bytes, int[] offsets, int length, int captureBytes)
    {
        _bytes = bytes;
        _offsets = offsets;
        _length = length;
        CaptureBytes = captureBytes;
    }

    /// <summary>The --capture-bytes the records were captured with.</summary>
    public int CaptureBytes { get; }

    public int Count => _offsets.Length;

    public ReadOnlySpan<byte> Record(int index) => _bytes.AsSpan(_offsets[index], _length);

    public static RecordSet Build(Payload payload, int count)
    {
        var (size, binary, capture) = payload switch
        {
            Payload.Text64 => (64, false, DefaultCapture),
            Payload.Binary64 => (64, true, DefaultCapture),
            Payload.Text4KiB => (4096, false, DefaultCapture),
            Payload.Text4KiBAll => (4096, false, 4096),
            _ => throw new ArgumentOutOfRangeException(nameof(payload)),
        };
        var capacity = capture > SmallCapture && size <= SmallCapture ? SmallCapture : capture;
        var length = WriteEvent.Size + capacity;
        var stride = (length + RecordAlignment - 1) / RecordAlignment * RecordAlignment;
        var bytes = new byte[stride * count];
        var offsets = new int[count];
        var data = new byte[size];
        for (var i = 0; i < count; i++)
        {
            var tid = WriterPid + (uint)(i % WriterThreads);
            var seq = i / WriterThreads;
            WritePayload(data, binary, tid, seq);
            var captured = Math.Min(size, capacity);
            var header = new WriteEvent
            {
                TimestampNs = 1_000_000_000_000UL + (ulong)i * 1_250,
                Count = (ulong)size,
                Pid = WriterPid,
                Tid = tid,
                RootPid = WriterPid,
                Fd = 3,
                Captured = (uint)captured,
            };
            Span<byte> comm = header.Comm;
            "writer"u8.CopyTo(comm);
            offsets[i] = i * stride;
            MemoryMarshal.Write(bytes.AsSpan(offsets[i]), in header);
            data.AsSpan(0, captured).CopyTo(bytes.AsSpan(offsets[i] + WriteEvent.Size));
        }
        return new RecordSet(bytes, offsets, length, capture);
    }

    /// <summary>bin/writer's payload for (pid, tid, seq) with -s SIZE (and -b): head, padding a…z, newline.</summary>
    private static void WritePayload(Span<byte> payload, bool binary, uint tid, int seq)
    {
        var head = Encoding.ASCII.GetBytes($"pid={WriterPid} tid={tid} seq={seq}");
        ReadOnlySpan<byte> prefix = binary ? [0xff, 0xfe, 0x00, 0x80] : "w "u8;
        var room = payload.Length - 1;
        var written = 0;
        foreach (var b in prefix)
        {
            payload[written++] = b;
        }
        for (var i = 0; i < head.Length && written < room; i++)
        {
            payload[written++] = head[i];
        }
        for (var pad = 0; written < room; pad++)
        {
            payload[written++] = (byte)('a' + pad % 26);
        }
        payload[room] = (byte)'\n';
    }
}
