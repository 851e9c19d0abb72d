using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Serilog.Events;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Sinks.Loki;
using static WriteTracer.Cli.OptionParsers;
using Defaults = WriteTracer.Cli.TracerOptions.Defaults;

namespace WriteTracer.Cli;

/// <summary>
/// The command-line contract (docs/DESIGN.md, "Command line"). Parsing either yields
/// validated options or one line naming the offending option.
/// </summary>
internal sealed class CommandLine
{
    private readonly Option<int[]> _pid = RepeatableOption<int>("--pid", "-p",
        "Process to trace, with its threads and descendants (repeatable) [default: none]", "PID",
        r => [.. r.Tokens.Select(t => ParseInt(r, t.Value, 1, int.MaxValue, "a positive process id"))]);

    private readonly Option<string[]> _cgroup = RepeatableOption<string>("--cgroup", null,
        "A cgroup v2 to trace: every process in it or below it, now and later; absolute or relative to the cgroup v2 mount (repeatable) [default: none]", "PATH");

    private readonly Option<int[]> _fds = ValueOption("--file-descriptors", "-f",
        "Only these file descriptors, comma-separated, filtered in the kernel [default: all]", "FD,FD…", ParseFdList);

    private readonly Option<string?> _fileOutput = ValueOption<string?>("--file-output", "-o",
        "Also write events to this file (in the --format), rotated by record count [default: off]", "PATH");

    private readonly Option<int> _maxRecords = IntOption("--max-records-fileoutput", "-n", "Records per file before rotation", "N",
        Defaults.MaxRecordsPerFile, 1, int.MaxValue, "a positive number of records");

    private readonly Option<int> _maxBackups = IntOption("--max-backups", null, "Rotated files kept (PATH.1 newest … PATH.N); 0 keeps all", "N",
        Defaults.MaxBackups, 0, int.MaxValue, "a number of files, 0 or more");

    private readonly Option<Uri?> _loki = ValueOption("--loki-endpoint", "-l", "Loki push URL (…/loki/api/v1/push) [default: off]", "URL", ParseLokiUrl);

    private readonly Option<KeyValuePair<string, string>[]> _lokiLabels = RepeatableOption("--loki-label", null,
        $"Label added to every Loki stream besides job and host (repeatable, at most {LokiPushClient.MaxExtraLabels}) [default: none]",
        "NAME=VALUE", ParseLokiLabels);

    private readonly Option<string?> _lokiTenant = ValueOption("--loki-tenant", null,
        "Loki tenant, sent as X-Scope-OrgID [default: none]", "TENANT", ParseLokiTenant);

    private readonly Option<bool> _lokiRootPidLabel = FlagOption("--loki-root-pid-label", null,
        "Label Loki streams with root_pid (a stream per registered process, for small setups) instead of sending it as structured metadata [default: off]");

    private readonly Option<int> _lokiQueue = IntOption("--loki-queue-events", null,
        "Events held for Loki while it is slow or down, at most 64 MiB of them; beyond that they are dropped and counted", "N",
        Defaults.LokiQueueEvents, 1, 10_000_000, "a number of events from 1 to 10000000");

    private readonly Option<int> _shutdownTimeout = IntOption("--shutdown-timeout", null,
        "Seconds a stop (signal, end of the command, every process gone) waits for the sinks to deliver what they hold; a second SIGINT or SIGTERM stops at once",
        "SECONDS", Defaults.ShutdownTimeoutSeconds, 0, 86400, "a number of seconds from 0 to 86400");

    private readonly Option<double> _interval = DefaultedOption("--tracking-interval", "-i",
        "Seconds between safety-net walks of /proc that check the tracked processes against the kernel's map; the kernel reports every fork, exit and thread as it happens, so a walk only repairs what went unreported",
        "SECONDS", Defaults.TrackingIntervalSeconds, ParseInterval);

    private readonly Option<int> _metricsPort = IntOption("--metrics-port", null, "Port of the Prometheus /metrics endpoint; 0 disables it", "PORT",
        Defaults.MetricsPort, 0, 65535, "a port from 0 to 65535");

    private readonly Option<IPAddress> _metricsAddress = AddressOption("--metrics-address",
        "Address the /metrics endpoint listens on (0.0.0.0: every IPv4 interface)", Defaults.MetricsAddress);

    private readonly Option<int> _restPort = IntOption("--rest-port", "-r", "Port of the REST API for adding and removing processes; 0 disables it", "PORT",
        Defaults.RestPort, 0, 65535, "a port from 0 to 65535");

    private readonly Option<IPAddress> _restAddress = AddressOption("--rest-address",
        "Address the REST API listens on; anything but loopback exposes it to the network and needs --api-token-file", Defaults.RestAddress);

    private readonly Option<string?> _restSocket = ValueOption("--rest-socket", null,
        "Serve the REST API on this Unix socket (with or without --rest-port), with mode --rest-socket-mode [default: off]", "PATH", ParseSocketPath);

    private readonly Option<string?> _apiTokenFile = ValueOption<string?>("--api-token-file", null,
        "Require 'Authorization: Bearer TOKEN' on every REST request; TOKEN is this file's content [default: off]", "PATH");

    // Authorization and durability (issue 16): the registry's file, who may open the socket, who may read the events.
    private readonly Option<string?> _stateFile = ValueOption<string?>("--state-file", null,
        "Keep the registered processes in this file, rewritten atomically on every change, " +
        "and trace them again at start if they still run [default: off]", "PATH");

    private readonly Option<UnixFileMode> _restSocketMode = ValueOption("--rest-socket-mode", null,
        "Mode of the --rest-socket file, octal from 0600 to 0666; 0666 lets every user register its own processes " +
        "(callers are identified by the kernel) [default: 0600]", "MODE", ParseMode);

    private readonly Option<UnixFileMode> _fileMode = ValueOption("--file-mode", null,
        "Mode of the --file-output file and its rotated backups, octal from 0600 to 0666, whatever the umask " +
        "(events hold whatever the processes write) [default: 0600]", "MODE", ParseMode);

    private readonly Option<bool> _noStdout = FlagOption("--no-stdout", "-q", "Do not write events to standard output [default: off]");

    private readonly Option<EventFormat> _format = ChoiceOption("--format",
        "Events on standard output and in the --file-output file: json (an object per line), " +
        "text (one strace-like line per write, for terminals) or raw (only the captured bytes, exactly as written); " +
        "Loki always gets JSON [default: json]",
        "json|text|raw", ("json", EventFormat.Json), ("text", EventFormat.Text), ("raw", EventFormat.Raw));

    private readonly Option<int> _captureBytes = IntOption("--capture-bytes", null,
        $"Bytes of each write's buffer captured, 0 to {WriteEvent.MaxCapture}; 0 captures none", "N",
        Defaults.CaptureBytes, 0, WriteEvent.MaxCapture, $"a byte count from 0 to {WriteEvent.MaxCapture}");

    private readonly Option<bool> _resolveFds = FlagOption("--resolve-fds", null,
        "Add \"fd_path\" to each event: what the fd names, as readlink /proc/PID/fd/FD shows it " +
        "(a path, pipe:[INODE], socket:[INODE], anon_inode:[…]), read from /proc once per file [default: off]");

    private readonly Option<bool> _lifecycle = FlagOption("--lifecycle", null,
        "Add the exec (with its argv, capped at --capture-bytes) and the exit (its code, or the signal that killed it) " +
        "of every traced process to the events, in order with its writes; not in --format raw, which carries only written bytes [default: off]");

    private readonly Option<int> _ringBuffer = DefaultedOption("--ring-buffer-mb", null,
        "Size of the kernel-to-tracer ring buffer in MiB, a power of two; larger absorbs longer bursts", "MIB",
        Defaults.RingBufferMegabytes, ParseRingBufferSize);

    private readonly Option<int> _maxTracked = IntOption("--max-tracked-processes", null, "Capacity of the kernel's tracked-process map", "N",
        Defaults.MaxTrackedProcesses, 1, 4_194_304, "a number of processes from 1 to 4194304");

    private readonly Option<WriteSyscall[]> _syscalls = ValueOption("--syscalls", null,
        $"Calls of the write family traced, comma-separated: {string.Join(", ", WriteSyscalls.All.Select(s => s.Name()))}, " +
        "or all; with more than write, events name their \"syscall\" [default: write]", "LIST", ParseSyscalls);

    private readonly Option<WriteHook> _attach = ChoiceOption("--attach",
        "Where write(2) is intercepted: raw (the raw tracepoint sys_enter, which every syscall passes, dispatching " +
        "on the syscall number; the cheapest measured here), tracepoint (syscalls:sys_enter_write) or fentry " +
        "(ksys_write; cheaper still for the host's untraced writes); raw and fentry fall back to the tracepoint " +
        "where unavailable [default: raw]",
        "tracepoint|raw|fentry", ("tracepoint", WriteHook.Tracepoint), ("raw", WriteHook.Raw), ("fentry", WriteHook.Fentry));

    private readonly Option<CapturePoint> _captureAt = ChoiceOption("--capture-at",
        "When each buffer is captured: entry (cheapest) or exit (adds \"ret\", write(2)'s result, " +
        "and captures buffers that were paged out at entry) [default: entry]",
        "entry|exit", ("entry", CapturePoint.Entry), ("exit", CapturePoint.Exit));

    private readonly Option<LogEventLevel> _logLevel = ChoiceOption("--log-level", "Diagnostics on stderr: debug, info, warning or error [default: info]",
        "LEVEL", ("debug", LogEventLevel.Debug), ("info", LogEventLevel.Information),
        ("warning", LogEventLevel.Warning), ("error", LogEventLevel.Error));

    private readonly Argument<string[]> _command = new("COMMAND")
    {
        Description = "After --: a command to launch and trace from its first instruction; write-tracer passes its signals on and exits with the command's exit code",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public CommandLine()
    {
        Root = new RootCommand(
            "Traces the write(2) calls of processes, their threads and descendants with eBPF, " +
            "and streams each call as a JSON line (or, with --format text, a strace-like line).")
        {
            _pid, _cgroup, _fds, _fileOutput, _maxRecords, _maxBackups, _loki, _lokiLabels, _lokiTenant, _lokiRootPidLabel, _lokiQueue,
            _shutdownTimeout, _interval, _metricsPort, _metricsAddress, _restPort, _restAddress, _restSocket, _apiTokenFile,
            _stateFile, _restSocketMode, _fileMode,
            _noStdout, _format, _captureBytes, _resolveFds, _lifecycle, _ringBuffer, _maxTracked, _syscalls, _attach, _captureAt, _logLevel, _command,
        };
        EnvironmentOptions.Document(Root);
        Root.Options.OfType<VersionOption>().Single().Description = "Show the version (and the git commit it was built from)";
    }

    public RootCommand Root { get; }

    /// <summary>
    /// Parses args, completed from WRITE_TRACER_* variables of the environment (the
    /// process's own unless given); on failure returns null and the error line to print.
    /// </summary>
    public TracerOptions? Parse(IReadOnlyList<string> args, out ParseResult result, out string? error,
        System.Collections.IDictionary? environment = null)
    {
        var completed = EnvironmentOptions.Apply(Root, args, environment ?? Environment.GetEnvironmentVariables(),
            out var fromEnvironment, out error);
        result = Root.Parse(completed);
        if (error is not null)
        {
            return null;
        }
        if (result.Errors.Count > 0)
        {
            var message = result.Errors[0].Message;
            // Name the variable when the bad value came from the environment.
            var source = fromEnvironment.FirstOrDefault(o => message.StartsWith(o.Key + ":", StringComparison.Ordinal));
            error = source.Value is null ? message : $"{source.Value} ({source.Key}){message[source.Key.Length..]}";
            return null;
        }
        // The parser accepts "-p 1 -p" (a repeated option whose last occurrence lacks its value) and keeps the 1.
        var missing = result.CommandResult.Children.OfType<OptionResult>()
            .FirstOrDefault(o => o.Option.ValueType != typeof(bool) && o.Tokens.Count < o.IdentifierTokenCount);
        if (missing is not null)
        {
            error = $"{missing.Option.Name}: a value is missing";
            return null;
        }
        var options = new TracerOptions
        {
            Pids = result.GetValue(_pid) ?? [],
            Cgroups = result.GetValue(_cgroup) ?? [],
            FileDescriptors = result.GetValue(_fds) ?? [],
            FileOutput = result.GetValue(_fileOutput),
            MaxRecordsPerFile = result.GetValue(_maxRecords),
            MaxBackups = result.GetValue(_maxBackups),
            LokiEndpoint = result.GetValue(_loki),
            LokiLabels = result.GetValue(_lokiLabels) ?? [],
            LokiTenant = result.GetValue(_lokiTenant),
            LokiRootPidLabel = result.GetValue(_lokiRootPidLabel),
            LokiQueueEvents = result.GetValue(_lokiQueue),
            ShutdownTimeout = TimeSpan.FromSeconds(result.GetValue(_shutdownTimeout)),
            TrackingInterval = TimeSpan.FromSeconds(result.GetValue(_interval)),
            MetricsPort = result.GetValue(_metricsPort),
            MetricsAddress = result.GetValue(_metricsAddress) ?? Defaults.MetricsAddress,
            RestPort = result.GetValue(_restPort),
            RestAddress = result.GetValue(_restAddress)!,
            RestSocket = result.GetValue(_restSocket),
            ApiTokenFile = result.GetValue(_apiTokenFile),
            StateFile = result.GetValue(_stateFile),
            RestSocketMode = ValueOr(result, _restSocketMode, Defaults.OwnerOnly),
            FileMode = ValueOr(result, _fileMode, Defaults.OwnerOnly),
            NoStdout = result.GetValue(_noStdout),
            Format = ValueOr(result, _format, Defaults.Format),
            CaptureBytes = result.GetValue(_captureBytes),
            ResolveFds = result.GetValue(_resolveFds),
            Lifecycle = result.GetValue(_lifecycle),
            RingBufferMegabytes = result.GetValue(_ringBuffer),
            MaxTrackedProcesses = result.GetValue(_maxTracked),
            Syscalls = result.GetResult(_syscalls) is null ? Defaults.Syscalls : result.GetValue(_syscalls)!,
            Attach = ValueOr(result, _attach, Defaults.Attach),
            CaptureAt = ValueOr(result, _captureAt, Defaults.CaptureAt),
            LogLevel = ValueOr(result, _logLevel, Defaults.LogLevel),
            Command = result.GetValue(_command) ?? [],
        };
        if (ArgumentsBeforeSeparator(completed, options.Command) is { } unexpected)
        {
            error = $"unrecognized argument '{unexpected}' (a command to launch goes after --)";
            return null;
        }
        error = options.Validate(GivenOptions(result));
        return error is null ? options : null;
    }

    /// <summary>True when the arguments ask for help or the version rather than a run.</summary>
    public static bool IsInformational(ParseResult result) =>
        result.Errors.Count == 0 && result.Action is not null; // the root has no action of its own: only --help and --version do

    /// <summary>
    /// The parser takes any stray word as part of COMMAND; only what follows "--" is.
    /// Returns the first word of COMMAND that came before the separator.
    /// </summary>
    private static string? ArgumentsBeforeSeparator(IReadOnlyList<string> args, IReadOnlyList<string> command)
    {
        var separator = args.ToList().IndexOf("--");
        var afterSeparator = separator < 0 ? 0 : args.Count - separator - 1;
        return command.Count > afterSeparator ? command[0] : null;
    }

    /// <summary>The names of the options the arguments name explicitly (defaults do not count).</summary>
    private HashSet<string> GivenOptions(ParseResult result) =>
        [.. Root.Options.Where(o => result.GetResult(o) is { Implicit: false }).Select(o => o.Name)];

    /// <summary>
    /// An option's value, or fallback when it is not given: for the options without a parser default
    /// (choices and modes, whose help would show the enum member instead of the word typed).
    /// </summary>
    private static T ValueOr<T>(ParseResult result, Option<T> option, T fallback) =>
        result.GetResult(option) is null ? fallback : result.GetValue(option)!;
}
