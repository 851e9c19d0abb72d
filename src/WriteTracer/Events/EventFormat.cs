namespace WriteTracer.Events;

/// <summary>How events are written as lines (--format).</summary>
internal enum EventFormat
{
    /// <summary>One JSON object per line (docs/DESIGN.md, "Event"): for programs, files and Loki.</summary>
    Json,

    /// <summary>One strace-like line per write: for people at a terminal.</summary>
    Text,
}
