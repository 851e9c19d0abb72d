namespace WriteTracer.Events;

/// <summary>
/// The arguments of an exec record's argv: the NUL-terminated strings as the kernel holds
/// them. A capped argv (--capture-bytes) may end inside an argument, which is then the
/// last one, without its NUL. <c>foreach (var arg in new Argv(bytes))</c>.
/// </summary>
internal readonly ref struct Argv(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;

    /// <summary>The captured argv ends inside an argument: the last one is cut.</summary>
    public bool EndsInsideAnArgument => !_bytes.IsEmpty && _bytes[^1] != 0;

    public Enumerator GetEnumerator() => new(_bytes);

    public ref struct Enumerator(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public ReadOnlySpan<byte> Current { get; private set; }

        public bool MoveNext()
        {
            if (_rest.IsEmpty)
            {
                return false;
            }
            var end = _rest.IndexOf((byte)0);
            Current = end < 0 ? _rest : _rest[..end];
            _rest = end < 0 ? default : _rest[(end + 1)..];
            return true;
        }
    }
}
