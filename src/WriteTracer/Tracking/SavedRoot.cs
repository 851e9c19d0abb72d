namespace WriteTracer.Tracking;

/// <summary>A registered root in the state file.</summary>
/// <param name="StartTime">/proc/PID/stat's starttime: with the pid, the process's identity.</param>
/// <param name="RegisteredByUid">The registrant's uid; -1 for a token holder the kernel could not identify.</param>
internal sealed record SavedRoot(int Pid, ulong StartTime, string Comm, DateTime RegisteredAt, int RegisteredByUid, bool Administrator);
