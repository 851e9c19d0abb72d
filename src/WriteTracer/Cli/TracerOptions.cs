namespace WriteTracer.Cli;

/// <summary>Every setting of a run, parsed and validated once at start-up.</summary>
internal sealed record TracerOptions
{
    public IReadOnlyList<int> Pids { get; init; } = [];
    /// <summary>--cgroup PATHs, as given: the cgroup registry resolves them.</summary>
    public IReadOnlyList<string> Cgroups { get; init; } = [];
    public IReadOnlyList<int> FileDescriptors { get; init; } = [];
    public string? FileOutput { get; init; }
    public int MaxRecordsPerFile { get; init; } = Defaults.MaxRecordsPerFile;
    public int MaxBackups { get; init; } = Defaults.MaxBackups;
    public Uri? LokiEndpoint { get; init; }
    /// <summary>--loki-label NAME=VALUE pairs, validated against Loki's label rules.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> LokiLabels { get; init; } = [];
    public string? LokiTenant { get; init; }
    /// <summary>root_pid as a stream label rather than as structured metadata.</summary>
    public bool LokiRootPidLabel { get; init; }
    public int LokiQueueEvents { get; init; } = Defaults.LokiQueueEvents;
    /// <summary>How long a stop waits for the sinks to deliver what they hold.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(Defaults.ShutdownTimeoutSeconds);
    public TimeSpan TrackingInterval { get; init; } = TimeSpan.FromSeconds(Defaults.TrackingIntervalSeconds);
    public int MetricsPort { get; init; } = Defaults.MetricsPort;
    public System.Net.IPAddress MetricsAddress { get; init; } = System.Net.IPAddress.Any;
    public int RestPort { get; init; }
    public System.Net.IPAddress RestAddress { get; init; } = Defaults.RestAddress;
    /// <summary>A Unix socket the REST API also listens on; null when none.</summary>
    public string? RestSocket { get; init; }
    /// <summary>A file holding the bearer token every REST request must present; null when none.</summary>
    public string? ApiTokenFile { get; init; }
    /// <summary>The registry's file (--state-file); null when registrations are not kept across runs.</summary>
    public string? StateFile { get; init; }
    public UnixFileMode RestSocketMode { get; init; } = Defaults.OwnerOnly;
    /// <summary>The mode of the --file-output file and its backups, set whatever the umask.</summary>
    public UnixFileMode FileMode { get; init; } = Defaults.OwnerOnly;
    public bool NoStdout { get; init; }
    /// <summary>The format of stdout and the file; Loki always gets JSON.</summary>
    public Events.EventFormat Format { get; init; } = Events.EventFormat.Json;
    public int CaptureBytes { get; init; } = Defaults.CaptureBytes;
    /// <summary>Events carry "fd_path", the path of the file their fd names.</summary>
    public bool ResolveFds { get; init; }
    public int RingBufferMegabytes { get; init; } = Defaults.RingBufferMegabytes;
    public int MaxTrackedProcesses { get; init; } = Defaults.MaxTrackedProcesses;
    /// <summary>The calls of the write family traced, in WT_SYSCALL_* order.</summary>
    public IReadOnlyList<Bpf.WriteSyscall> Syscalls { get; init; } = Defaults.Syscalls;
    public Bpf.WriteHook Attach { get; init; } = Bpf.WriteHook.Tracepoint;
    public Bpf.CapturePoint CaptureAt { get; init; } = Bpf.CapturePoint.Entry;
    public Serilog.Events.LogEventLevel LogLevel { get; init; } = Serilog.Events.LogEventLevel.Information;
    /// <summary>The command to launch traced (after <c>--</c>); empty when none.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>Processes can be registered at run time (the REST API is on), so running with none tracked is normal.</summary>
    public bool AcceptsRegistrations => RestPort > 0 || RestSocket is not null;

    public static class Defaults
    {
        public const int MaxRecordsPerFile = 50000;
        public const int MaxBackups = 50;
        public const double TrackingIntervalSeconds = 5;
        public const int MetricsPort = 2112;
        public const int LokiQueueEvents = 100_000;
        public const int ShutdownTimeoutSeconds = 30;
        public const int CaptureBytes = 256;
        public const int RingBufferMegabytes = 8;
        public const int MaxTrackedProcesses = 65536;
        public static readonly IReadOnlyList<Bpf.WriteSyscall> Syscalls = [Bpf.WriteSyscall.Write];
        public static readonly System.Net.IPAddress RestAddress = System.Net.IPAddress.Loopback;
        public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    }
}
