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
    public System.Net.IPAddress MetricsAddress { get; init; } = Defaults.MetricsAddress;
    public int RestPort { get; init; } = Defaults.RestPort;
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
    public Events.EventFormat Format { get; init; } = Defaults.Format;
    public int CaptureBytes { get; init; } = Defaults.CaptureBytes;
    /// <summary>Events carry "fd_path", the path of the file their fd names.</summary>
    public bool ResolveFds { get; init; }
    /// <summary>The exec and exit of every traced process are events too (--lifecycle).</summary>
    public bool Lifecycle { get; init; }
    public int RingBufferMegabytes { get; init; } = Defaults.RingBufferMegabytes;
    public int MaxTrackedProcesses { get; init; } = Defaults.MaxTrackedProcesses;
    /// <summary>The calls of the write family traced, in WT_SYSCALL_* order.</summary>
    public IReadOnlyList<Bpf.WriteSyscall> Syscalls { get; init; } = Defaults.Syscalls;
    public Bpf.WriteHook Attach { get; init; } = Defaults.Attach;
    public Bpf.CapturePoint CaptureAt { get; init; } = Defaults.CaptureAt;
    public Serilog.Events.LogEventLevel LogLevel { get; init; } = Defaults.LogLevel;
    /// <summary>The command to launch traced (after <c>--</c>); empty when none.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>Processes can be registered at run time (the REST API is on), so running with none tracked is normal.</summary>
    public bool AcceptsRegistrations => RestPort > 0 || RestSocket is not null;

    /// <summary>
    /// The checks across options, in the order the command line reports them; null when the
    /// options make a run. given holds the options the arguments (or the environment) name
    /// explicitly, for the options whose mere presence needs another one.
    /// </summary>
    public string? Validate(IReadOnlySet<string> given)
    {
        if (FileOutput is { Length: 0 })
        {
            return "--file-output: the path is empty";
        }
        if (LokiEndpoint is null
            && new[] { "--loki-label", "--loki-tenant", "--loki-root-pid-label", "--loki-queue-events" }.FirstOrDefault(given.Contains) is { } lokiOption)
        {
            return $"{lokiOption} needs --loki-endpoint";
        }
        if (ApiTokenFile is { Length: 0 })
        {
            return "--api-token-file: the path is empty";
        }
        if (!AcceptsRegistrations && (given.Contains("--rest-address") || ApiTokenFile is not null))
        {
            return $"{(ApiTokenFile is not null ? "--api-token-file" : "--rest-address")}: the REST API is off; enable it with --rest-port PORT or --rest-socket PATH";
        }
        if (StateFile is { Length: 0 })
        {
            return "--state-file: the path is empty";
        }
        if (given.Contains("--rest-socket-mode") && RestSocket is null)
        {
            return "--rest-socket-mode needs --rest-socket";
        }
        if (given.Contains("--file-mode") && FileOutput is null)
        {
            return "--file-mode needs --file-output";
        }
        if (RestPort > 0 && !System.Net.IPAddress.IsLoopback(RestAddress) && ApiTokenFile is null)
        {
            return $"--rest-address {RestAddress}: callers from other hosts cannot be identified; a non-loopback address needs --api-token-file";
        }
        if (Cgroups.FirstOrDefault(c => c.Length == 0) is not null)
        {
            return "--cgroup: the path is empty";
        }
        if (Pids.Count == 0 && Cgroups.Count == 0 && Command.Count == 0 && !AcceptsRegistrations)
        {
            return "nothing to trace: give -p PID, --cgroup PATH, a command after --, or --rest-port PORT (or --rest-socket PATH) to register processes at run time";
        }
        return null;
    }

    public static class Defaults
    {
        public const int MaxRecordsPerFile = 50000;
        public const int MaxBackups = 50;
        public const double TrackingIntervalSeconds = 60;
        public const int MetricsPort = 2112;
        public static readonly System.Net.IPAddress MetricsAddress = System.Net.IPAddress.Any;
        public const int RestPort = 0;
        public const int LokiQueueEvents = 100_000;
        public const int ShutdownTimeoutSeconds = 30;
        public const int CaptureBytes = 256;
        public const int RingBufferMegabytes = 8;
        public const int MaxTrackedProcesses = 65536;
        public static readonly IReadOnlyList<Bpf.WriteSyscall> Syscalls = [Bpf.WriteSyscall.Write];
        public static readonly System.Net.IPAddress RestAddress = System.Net.IPAddress.Loopback;
        public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        public const Events.EventFormat Format = Events.EventFormat.Json;
        public const Bpf.WriteHook Attach = Bpf.WriteHook.Raw;
        public const Bpf.CapturePoint CaptureAt = Bpf.CapturePoint.Entry;
        public const Serilog.Events.LogEventLevel LogLevel = Serilog.Events.LogEventLevel.Information;
    }
}
