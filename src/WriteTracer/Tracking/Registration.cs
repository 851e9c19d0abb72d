namespace WriteTracer.Tracking;

internal enum RegistrationStatus
{
    Registered,
    InvalidPid,
    Self,
    NotFound,
    AlreadyRegistered,
    /// <summary>Already traced as a descendant of another root (<see cref="Registration.RootPid"/>).</summary>
    AlreadyTracked,
    MapFull,
}

/// <summary>The outcome of registering a process.</summary>
internal readonly record struct Registration(RegistrationStatus Status, int Pid, int RootPid = 0, RootProcess? Root = null)
{
    public string Describe() => Status switch
    {
        RegistrationStatus.Registered =>
            $"tracking process {Pid} ({Root!.Comm}) with {Root.ThreadCount} threads in {Root.ProcessCount} processes",
        RegistrationStatus.InvalidPid => $"pid {Pid} is not a positive process id",
        RegistrationStatus.Self => $"pid {Pid} is the tracer itself, which never traces itself",
        RegistrationStatus.NotFound => $"no such process: {Pid}",
        RegistrationStatus.AlreadyRegistered => $"process {Pid} is already registered",
        RegistrationStatus.AlreadyTracked => $"process {Pid} is already tracked as a descendant of registered process {RootPid}",
        RegistrationStatus.MapFull => $"cannot track process {Pid}: the tracked-process map is full (--max-tracked-processes)",
        _ => Status.ToString(),
    };
}
