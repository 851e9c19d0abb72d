namespace WriteTracer.Bpf;

/// <summary>The first field of every events-ring record (<c>WT_RECORD_*</c>): which struct it is.</summary>
internal enum RecordKind : uint
{
    /// <summary>A <see cref="WriteEvent"/>.</summary>
    Write = 0,
    /// <summary>A <see cref="ProcessEvent"/> followed by the new program's argv (<c>--lifecycle</c>).</summary>
    Exec = 1,
    /// <summary>A <see cref="ProcessEvent"/> (<c>--lifecycle</c>).</summary>
    Exit = 2,
}
