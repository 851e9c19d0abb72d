namespace WriteTracer.Events;

/// <summary>How events are written to stdout and the file (--format).</summary>
internal enum EventFormat
{
    /// <summary>One JSON object per line (docs/DESIGN.md, "Event"): for programs, files and Loki.</summary>
    Json,

    /// <summary>One strace-like line per write: for people at a terminal.</summary>
    Text,

    /// <summary>Only the captured bytes, exactly as written, back to back: what the traced processes print.</summary>
    Raw,
}
