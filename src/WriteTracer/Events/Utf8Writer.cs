using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace WriteTracer.Events;

/// <summary>
/// Appends UTF-8 to a caller-sized span. Callers size the span for the worst case
/// (<see cref="IEventFormatter.MaxLength"/>), so writes never check for room.
/// </summary>
internal ref struct Utf8Writer(Span<byte> destination)
{
    private static readonly SearchValues<byte> JsonSpecial = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\"\\"u8);

    /// <summary>Bytes <see cref="CEscaped"/> must look at: controls, quote, backslash, DEL and every non-ASCII byte.</summary>
    private static readonly SearchValues<byte> CSpecial = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\', .. Enumerable.Range(0x7F, 0x81).Select(b => (byte)b)]);

    /// <summary>The longest output of <see cref="CEscaped"/> per input byte (\xNN).</summary>
    public const int MaxCEscapedBytesPerByte = 4;

    private readonly Span<byte> _destination = destination;
    private int _position;

    public readonly int Position => _position;

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

    /// <summary>Writes value as exactly count digits, zero-padded (the fraction of a second of a timestamp).</summary>
    public void FixedDigits(uint value, int count)
    {
        var span = _destination.Slice(_position, count);
        for (var i = count - 1; i >= 0; i--)
        {
            span[i] = (byte)('0' + value % 10);
            value /= 10;
        }
        _position += count;
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
        var escape = ShortEscape(special);
        if (!escape.IsEmpty)
        {
            Raw(escape);
            return;
        }
        Raw("\\u00"u8);
        Hex(special);
    }

    /// <summary>The two-character escape JSON and C share for this byte, or empty when it has none.</summary>
    private static ReadOnlySpan<byte> ShortEscape(byte special) => special switch
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

    /// <summary>
    /// Writes bytes as the inside of a C string literal, the way strace shows buffers, so
    /// that the text stays on one line and names every byte: printable ASCII and visible
    /// non-ASCII characters as they are; \n \r \t \b \f \" \\ escaped; every other byte as
    /// \xNN (always two lowercase hex digits): controls, DEL, invalid UTF-8, and the bytes of
    /// characters that show as nothing or as a plain space (C1 controls, format characters
    /// such as zero-width spaces and bidi overrides, non-ASCII spaces, line separators).
    /// </summary>
    public void CEscaped(scoped ReadOnlySpan<byte> bytes)
    {
        while (true)
        {
            var special = bytes.IndexOfAny(CSpecial);
            if (special < 0)
            {
                Raw(bytes);
                return;
            }
            Raw(bytes[..special]);
            bytes = bytes[special..];
            var visible = VisibleCharacterLength(bytes);
            if (visible > 0)
            {
                Raw(bytes[..visible]);
                bytes = bytes[visible..];
                continue;
            }
            var escape = ShortEscape(bytes[0]);
            if (escape.IsEmpty)
            {
                Raw("\\x"u8);
                Hex(bytes[0]);
            }
            else
            {
                Raw(escape);
            }
            bytes = bytes[1..];
        }
    }

    /// <summary>
    /// The length of the UTF-8 character bytes starts with when it is non-ASCII, valid and
    /// visible; otherwise 0, and the first byte is escaped (the rest of an invalid or
    /// invisible sequence is looked at again on its own, so each of its bytes is escaped too).
    /// </summary>
    private static int VisibleCharacterLength(ReadOnlySpan<byte> bytes)
    {
        if (bytes[0] < 0x80 || Rune.DecodeFromUtf8(bytes, out var rune, out var length) != OperationStatus.Done)
        {
            return 0;
        }
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            ? 0
            : length;
    }

    private void Hex(byte value)
    {
        Byte(HexDigit(value >> 4));
        Byte(HexDigit(value & 0xF));
    }

    private static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
