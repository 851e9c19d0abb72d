namespace WriteTracer.Tracking;

/// <summary>A process's real, effective and saved user ids (/proc/PID/status, "Uid:").</summary>
internal readonly record struct ProcessUids(uint Real, uint Effective, uint Saved);
