using WriteTracer.Bpf;

namespace WriteTracer.Events;

/// <summary>
/// A formatter's escaped form of the last thread name it wrote. Consecutive events
/// mostly come from one thread, so the name is validated and escaped once, not per
/// event (it was the reader's top cost under a single busy writer).
/// </summary>
internal sealed class EscapedComm(EscapedComm.Escape escape)
{
    /// <summary>Writes the name, escaped for the formatter's output.</summary>
    public delegate void Escape(ref Utf8Writer writer, scoped ReadOnlySpan<byte> comm);

    // The worst escape of a byte is JSON's \u00XX.
    private readonly byte[] _escaped = new byte[WriteEvent.CommLength * 6];
    private WriteEvent.CommBuffer _comm;
    private int _length = -1;

    /// <summary>The escaped name of a record's thread (<see cref="WriteEvent.Comm"/>, <see cref="ProcessEvent.Comm"/>).</summary>
    public ReadOnlySpan<byte> Of(in WriteEvent.CommBuffer name)
    {
        ReadOnlySpan<byte> comm = name;
        if (_length < 0 || !comm.SequenceEqual(_comm))
        {
            comm.CopyTo(_comm);
            var writer = new Utf8Writer(_escaped);
            escape(ref writer, WriteEvent.CommBuffer.TextOf(comm));
            _length = writer.Position;
        }
        return _escaped.AsSpan(0, _length);
    }
}
