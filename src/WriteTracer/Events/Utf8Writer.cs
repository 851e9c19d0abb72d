using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace WriteTracer.Events;

/// <summary>
/// Appends UTF-8 to a caller-sized span. Callers size the span for the worst case
/// (<see cref="JsonEventFormatter.MaxLength"/>), so writes never check for room.
/// </summary>
internal ref struct Utf8Writer(Span<byte> destination)
{
    private static readonly SearchValues<byte> JsonSpecial = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\"\\"u8);

    private readonly Span<byte> _destination = destination;
    private int _position;

    public readonly int Position => _position;

    public readonly Span<byte> Remaining => _destination[_position..];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Raw(scoped ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_destination[_position..]);
        _position += bytes.Length;
    }

    public void Byte(byte value) => _destination[_position++] = value;

    public void Number(ulong value)
    {
        value.TryFormat(_destination[_position..], out var written);
        _position += written;
    }

    public void Number(long value)
    {
        value.TryFormat(_destination[_position..], out var written);
        _position += written;
    }

    /// <summary>Writes value as exactly nine digits (the nanoseconds of a timestamp).</summary>
    public void NineDigits(uint value)
    {
        var span = _destination.Slice(_position, 9);
        for (var i = 8; i >= 0; i--)
        {
            span[i] = (byte)('0' + value % 10);
            value /= 10;
        }
        _position += 9;
    }

    public void Base64(scoped ReadOnlySpan<byte> bytes)
    {
        System.Buffers.Text.Base64.EncodeToUtf8(bytes, _destination[_position..], out _, out var written);
        _position += written;
    }

    /// <summary>Writes valid UTF-8 as the inside of a JSON string, escaping what JSON requires.</summary>
    public void JsonEscaped(scoped ReadOnlySpan<byte> utf8)
    {
        while (true)
        {
            var special = utf8.IndexOfAny(JsonSpecial);
            if (special < 0)
            {
                Raw(utf8);
                return;
            }
            Raw(utf8[..special]);
            JsonEscape(utf8[special]);
            utf8 = utf8[(special + 1)..];
        }
    }

    /// <summary>Like <see cref="JsonEscaped"/>, replacing invalid UTF-8 with U+FFFD (for names, not payloads).</summary>
    public void JsonEscapedLenient(scoped ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            JsonEscaped(bytes);
            return;
        }
        Span<char> chars = stackalloc char[bytes.Length];
        Utf8.ToUtf16(bytes, chars, out _, out var charCount, replaceInvalidSequences: true);
        Span<byte> valid = stackalloc byte[charCount * 3];
        Utf8.FromUtf16(chars[..charCount], valid, out _, out var byteCount);
        JsonEscaped(valid[..byteCount]);
    }

    private void JsonEscape(byte special)
    {
        var escape = special switch
        {
            (byte)'"' => "\\\""u8,
            (byte)'\\' => "\\\\"u8,
            (byte)'\n' => "\\n"u8,
            (byte)'\r' => "\\r"u8,
            (byte)'\t' => "\\t"u8,
            (byte)'\b' => "\\b"u8,
            (byte)'\f' => "\\f"u8,
            _ => default,
        };
        if (!escape.IsEmpty)
        {
            Raw(escape);
            return;
        }
        Raw("\\u00"u8);
        Byte(HexDigit(special >> 4));
        Byte(HexDigit(special & 0xF));
    }

    private static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
