namespace WriteTracer.Tracking;

/// <summary>
/// "You may trace what you could strace": an unprivileged uid may trace a process whose real,
/// effective and saved uids are all its own and which is dumpable (ptrace's
/// PTRACE_MODE_REALCREDS rule, read from /proc).
/// </summary>
internal static class TracePermission
{
    /// <summary>
    /// Null when uid may trace pid, else the sentence refusing it. A process that is gone is
    /// not refused here: the registry reports it. startTime is the identity of the process that
    /// was judged, so that a pid reused before the registration is not taken for it.
    /// </summary>
    public static string? Refusal(ProcFs proc, int uid, int pid, out ulong? startTime)
    {
        startTime = null;
        if (!proc.IsAlive(pid, out var before) || !proc.TryReadStatus(pid, out var status) || !proc.TryReadOwner(pid, out var owner)
            || !proc.IsAlive(pid, out var after) || after.StartTime != before.StartTime)
        {
            return null;
        }
        startTime = before.StartTime;
        if (!status.IsOwnedBy(uid))
        {
            return status.RealUid != uid
                ? $"uid {uid} may not trace process {pid} (owned by uid {status.RealUid})"
                : $"uid {uid} may not trace process {pid} (its effective and saved uids are {status.Uids[1]} and {status.Uids[2]})";
        }
        return owner == uid ? null : $"uid {uid} may not trace process {pid} (it is not dumpable: it gained privileges at exec or made itself undumpable)";
    }

    /// <summary>True when uid may trace pid now (the walker's test for an unprivileged tree's descendants).</summary>
    public static bool Allows(ProcFs proc, int uid, int pid) => Refusal(proc, uid, pid, out var startTime) is null && startTime is not null;
}
