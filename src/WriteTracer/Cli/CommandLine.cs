using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Serilog.Events;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Sinks.Loki;

namespace WriteTracer.Cli;

/// <summary>
/// The command-line contract (DESIGN.md, "Command line"). Parsing either yields
/// validated options or one line naming the offending option.
/// </summary>
internal sealed class CommandLine
{
    private readonly Option<int[]> _pid = new("--pid", "-p")
    {
        Description = "Process to trace, with its threads and descendants (repeatable) [default: none]",
        HelpName = "PID",
        CustomParser = r => [.. r.Tokens.Select(t => ParseInt(r, t.Value, 1, int.MaxValue, "a positive process id"))],
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<string[]> _cgroup = new("--cgroup")
    {
        Description = "A cgroup v2 to trace: every process in it or below it, now and later; absolute or relative to the cgroup v2 mount (repeatable) [default: none]",
        HelpName = "PATH",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<int[]> _fds = new("--file-descriptors", "-f")
    {
        Description = "Only these file descriptors, comma-separated, filtered in the kernel [default: all]",
        HelpName = "FD,FD…",
        CustomParser = ParseFdList,
    };

    private readonly Option<string?> _fileOutput = new("--file-output", "-o")
    {
        Description = "Also write events to this file (in the --format), rotated by record count [default: off]",
        HelpName = "PATH",
    };

    private readonly Option<int> _maxRecords = new("--max-records-fileoutput", "-n")
    {
        Description = "Records per file before rotation",
        HelpName = "N",
        DefaultValueFactory = _ => TracerOptions.Defaults.MaxRecordsPerFile,
        CustomParser = r => ParseInt(r, Single(r), 1, int.MaxValue, "a positive number of records"),
    };

    private readonly Option<int> _maxBackups = new("--max-backups")
    {
        Description = "Rotated files kept (PATH.1 newest … PATH.N); 0 keeps all",
        HelpName = "N",
        DefaultValueFactory = _ => TracerOptions.Defaults.MaxBackups,
        CustomParser = r => ParseInt(r, Single(r), 0, int.MaxValue, "a number of files, 0 or more"),
    };

    private readonly Option<Uri?> _loki = new("--loki-endpoint", "-l")
    {
        Description = "Loki push URL (…/loki/api/v1/push) [default: off]",
        HelpName = "URL",
        CustomParser = ParseLokiUrl,
    };

    private readonly Option<KeyValuePair<string, string>[]> _lokiLabels = new("--loki-label")
    {
        Description = $"Label added to every Loki stream besides job and host (repeatable, at most {LokiPushClient.MaxExtraLabels}) [default: none]",
        HelpName = "NAME=VALUE",
        CustomParser = ParseLokiLabels,
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<string?> _lokiTenant = new("--loki-tenant")
    {
        Description = "Loki tenant, sent as X-Scope-OrgID [default: none]",
        HelpName = "TENANT",
        CustomParser = ParseLokiTenant,
    };

    private readonly Option<bool> _lokiRootPidLabel = new("--loki-root-pid-label")
    {
        Description = "Label Loki streams with root_pid (a stream per registered process, for small setups) instead of sending it as structured metadata [default: off]",
    };

    private readonly Option<int> _lokiQueue = new("--loki-queue-events")
    {
        Description = "Events held for Loki while it is slow or down, at most 64 MiB of them; beyond that they are dropped and counted",
        HelpName = "N",
        DefaultValueFactory = _ => TracerOptions.Defaults.LokiQueueEvents,
        CustomParser = r => ParseInt(r, Single(r), 1, 10_000_000, "a number of events from 1 to 10000000"),
    };

    private readonly Option<int> _shutdownTimeout = new("--shutdown-timeout")
    {
        Description = "Seconds a stop (signal, end of the command, every process gone) waits for the sinks to deliver what they hold; a second SIGINT or SIGTERM stops at once",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => TracerOptions.Defaults.ShutdownTimeoutSeconds,
        CustomParser = r => ParseInt(r, Single(r), 0, 86400, "a number of seconds from 0 to 86400"),
    };

    private readonly Option<double> _interval = new("--tracking-interval", "-i")
    {
        Description = "Seconds between reconciliations of the tracked processes with /proc",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => TracerOptions.Defaults.TrackingIntervalSeconds,
        CustomParser = ParseInterval,
    };

    private readonly Option<int> _metricsPort = new("--metrics-port")
    {
        Description = "Port of the Prometheus /metrics endpoint; 0 disables it",
        HelpName = "PORT",
        DefaultValueFactory = _ => TracerOptions.Defaults.MetricsPort,
        CustomParser = r => ParseInt(r, Single(r), 0, 65535, "a port from 0 to 65535"),
    };

    private readonly Option<IPAddress> _metricsAddress = new("--metrics-address")
    {
        Description = "Address the /metrics endpoint listens on (0.0.0.0: every IPv4 interface)",
        HelpName = "ADDRESS",
        DefaultValueFactory = _ => IPAddress.Any,
        CustomParser = ParseAddress,
    };

    private readonly Option<int> _restPort = new("--rest-port", "-r")
    {
        Description = "Port of the REST API for adding and removing processes; 0 disables it",
        HelpName = "PORT",
        DefaultValueFactory = _ => 0,
        CustomParser = r => ParseInt(r, Single(r), 0, 65535, "a port from 0 to 65535"),
    };

    private readonly Option<IPAddress> _restAddress = new("--rest-address")
    {
        Description = "Address the REST API listens on; anything but loopback exposes it to the network and needs --api-token-file",
        HelpName = "ADDRESS",
        DefaultValueFactory = _ => TracerOptions.Defaults.RestAddress,
        CustomParser = ParseAddress,
    };

    private readonly Option<string?> _restSocket = new("--rest-socket")
    {
        Description = "Serve the REST API on this Unix socket (with or without --rest-port), with mode --rest-socket-mode [default: off]",
        HelpName = "PATH",
        CustomParser = ParseSocketPath,
    };

    private readonly Option<string?> _apiTokenFile = new("--api-token-file")
    {
        Description = "Require 'Authorization: Bearer TOKEN' on every REST request; TOKEN is this file's content [default: off]",
        HelpName = "PATH",
    };

    // Authorization and durability (issue 16): the registry's file, who may open the socket, who may read the events.
    private readonly Option<string?> _stateFile = new("--state-file")
    {
        Description = "Keep the registered processes in this file, rewritten atomically on every change, " +
            "and trace them again at start if they still run [default: off]",
        HelpName = "PATH",
    };

    private readonly Option<UnixFileMode> _restSocketMode = new("--rest-socket-mode")
    {
        Description = "Mode of the --rest-socket file, octal from 0600 to 0666; 0666 lets every user register its own processes " +
            "(callers are identified by the kernel) [default: 0600]",
        HelpName = "MODE",
        CustomParser = ParseMode,
    };

    private readonly Option<UnixFileMode> _fileMode = new("--file-mode")
    {
        Description = "Mode of the --file-output file and its rotated backups, octal from 0600 to 0666, whatever the umask " +
            "(events hold whatever the processes write) [default: 0600]",
        HelpName = "MODE",
        CustomParser = ParseMode,
    };

    private readonly Option<bool> _noStdout = new("--no-stdout", "-q")
    {
        Description = "Do not write events to standard output [default: off]",
    };

    private readonly Option<EventFormat> _format = new("--format")
    {
        Description = "Events on standard output and in the --file-output file: json (an object per line), " +
            "text (one strace-like line per write, for terminals) or raw (only the captured bytes, exactly as written); " +
            "Loki always gets JSON [default: json]",
        HelpName = "json|text|raw",
        CustomParser = r => ParseChoice(r, EventFormat.Json, ("json", EventFormat.Json), ("text", EventFormat.Text), ("raw", EventFormat.Raw)),
    };

    private readonly Option<int> _captureBytes = new("--capture-bytes")
    {
        Description = $"Bytes of each write's buffer captured, 0 to {WriteEvent.MaxCapture}; 0 captures none",
        HelpName = "N",
        DefaultValueFactory = _ => TracerOptions.Defaults.CaptureBytes,
        CustomParser = r => ParseInt(r, Single(r), 0, WriteEvent.MaxCapture, $"a byte count from 0 to {WriteEvent.MaxCapture}"),
    };

    private readonly Option<bool> _resolveFds = new("--resolve-fds")
    {
        Description = "Add \"fd_path\" to each event: what the fd names, as readlink /proc/PID/fd/FD shows it " +
            "(a path, pipe:[INODE], socket:[INODE], anon_inode:[…]), read from /proc once per file [default: off]",
    };

    private readonly Option<int> _ringBuffer = new("--ring-buffer-mb")
    {
        Description = "Size of the kernel-to-tracer ring buffer in MiB, a power of two; larger absorbs longer bursts",
        HelpName = "MIB",
        DefaultValueFactory = _ => TracerOptions.Defaults.RingBufferMegabytes,
        CustomParser = ParseRingBufferSize,
    };

    private readonly Option<int> _maxTracked = new("--max-tracked-processes")
    {
        Description = "Capacity of the kernel's tracked-process map",
        HelpName = "N",
        DefaultValueFactory = _ => TracerOptions.Defaults.MaxTrackedProcesses,
        CustomParser = r => ParseInt(r, Single(r), 1, 4_194_304, "a number of processes from 1 to 4194304"),
    };

    private readonly Option<WriteSyscall[]> _syscalls = new("--syscalls")
    {
        Description = $"Calls of the write family traced, comma-separated: {string.Join(", ", WriteSyscalls.All.Select(s => s.Name()))}, " +
            "or all; with more than write, events name their \"syscall\" [default: write]",
        HelpName = "LIST",
        CustomParser = ParseSyscalls,
    };

    private readonly Option<WriteHook> _attach = new("--attach")
    {
        Description = "Where write(2) is intercepted: tracepoint (syscalls:sys_enter_write), raw (the raw tracepoint " +
            "sys_enter, which every syscall passes, dispatching on the syscall number) or fentry (ksys_write; cheaper " +
            "for the host's untraced writes); raw and fentry fall back to the tracepoint where unavailable [default: tracepoint]",
        HelpName = "tracepoint|raw|fentry",
        CustomParser = r => ParseChoice(r, WriteHook.Tracepoint, ("tracepoint", WriteHook.Tracepoint), ("raw", WriteHook.Raw),
            ("fentry", WriteHook.Fentry)),
    };

    private readonly Option<CapturePoint> _captureAt = new("--capture-at")
    {
        Description = "When each buffer is captured: entry (cheapest) or exit (adds \"ret\", write(2)'s result, " +
            "and captures buffers that were paged out at entry) [default: entry]",
        HelpName = "entry|exit",
        CustomParser = r => ParseChoice(r, CapturePoint.Entry, ("entry", CapturePoint.Entry), ("exit", CapturePoint.Exit)),
    };

    private readonly Option<LogEventLevel> _logLevel = new("--log-level")
    {
        Description = "Diagnostics on stderr: debug, info, warning or error [default: info]",
        HelpName = "LEVEL",
        CustomParser = r => ParseChoice(r, LogEventLevel.Information,
            ("debug", LogEventLevel.Debug), ("info", LogEventLevel.Information),
            ("warning", LogEventLevel.Warning), ("error", LogEventLevel.Error)),
    };

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
            _noStdout, _format, _captureBytes, _resolveFds, _ringBuffer, _maxTracked, _syscalls, _attach, _captureAt, _logLevel, _command,
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
        var defaults = new TracerOptions();
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
            MetricsAddress = result.GetValue(_metricsAddress) ?? IPAddress.Any,
            RestPort = result.GetValue(_restPort),
            RestAddress = result.GetValue(_restAddress)!,
            RestSocket = result.GetValue(_restSocket),
            ApiTokenFile = result.GetValue(_apiTokenFile),
            StateFile = result.GetValue(_stateFile),
            RestSocketMode = ChoiceOr(result, _restSocketMode, defaults.RestSocketMode),
            FileMode = ChoiceOr(result, _fileMode, defaults.FileMode),
            NoStdout = result.GetValue(_noStdout),
            Format = ChoiceOr(result, _format, defaults.Format),
            CaptureBytes = result.GetValue(_captureBytes),
            ResolveFds = result.GetValue(_resolveFds),
            RingBufferMegabytes = result.GetValue(_ringBuffer),
            MaxTrackedProcesses = result.GetValue(_maxTracked),
            Syscalls = result.GetResult(_syscalls) is null ? defaults.Syscalls : result.GetValue(_syscalls)!,
            Attach = ChoiceOr(result, _attach, defaults.Attach),
            CaptureAt = ChoiceOr(result, _captureAt, defaults.CaptureAt),
            LogLevel = ChoiceOr(result, _logLevel, defaults.LogLevel),
            Command = result.GetValue(_command) ?? [],
        };
        var unexpected = ArgumentsBeforeSeparator(completed, options.Command);
        if (unexpected is not null)
        {
            error = $"unrecognized argument '{unexpected}' (a command to launch goes after --)";
            return null;
        }
        if (options.FileOutput is { Length: 0 })
        {
            error = "--file-output: the path is empty";
            return null;
        }
        if (options.LokiEndpoint is null && FirstGiven(result, _lokiLabels, _lokiTenant, _lokiRootPidLabel, _lokiQueue) is { } lokiOption)
        {
            error = $"{lokiOption.Name} needs --loki-endpoint";
            return null;
        }
        if (options.ApiTokenFile is { Length: 0 })
        {
            error = "--api-token-file: the path is empty";
            return null;
        }
        if (!options.AcceptsRegistrations && (Given(result, _restAddress) || options.ApiTokenFile is not null))
        {
            error = $"{(options.ApiTokenFile is not null ? "--api-token-file" : "--rest-address")}: the REST API is off; enable it with --rest-port PORT or --rest-socket PATH";
            return null;
        }
        if (options.StateFile is { Length: 0 })
        {
            error = "--state-file: the path is empty";
            return null;
        }
        if (Given(result, _restSocketMode) && options.RestSocket is null)
        {
            error = "--rest-socket-mode needs --rest-socket";
            return null;
        }
        if (Given(result, _fileMode) && options.FileOutput is null)
        {
            error = "--file-mode needs --file-output";
            return null;
        }
        if (options.RestPort > 0 && !IPAddress.IsLoopback(options.RestAddress) && options.ApiTokenFile is null)
        {
            error = $"--rest-address {options.RestAddress}: callers from other hosts cannot be identified; a non-loopback address needs --api-token-file";
            return null;
        }
        if (options.Cgroups.FirstOrDefault(c => c.Length == 0) is not null)
        {
            error = "--cgroup: the path is empty";
            return null;
        }
        if (options.Pids.Count == 0 && options.Cgroups.Count == 0 && options.Command.Count == 0 && !options.AcceptsRegistrations)
        {
            error = "nothing to trace: give -p PID, --cgroup PATH, a command after --, or --rest-port PORT (or --rest-socket PATH) to register processes at run time";
            return null;
        }
        return options;
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

    /// <summary>The first of the options the arguments name explicitly (defaults do not count).</summary>
    private static Option? FirstGiven(ParseResult result, params Option[] options) =>
        options.FirstOrDefault(o => result.GetResult(o) is { Implicit: false });

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    private static string OptionName(ArgumentResult result) =>
        (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;

    private static int ParseInt(ArgumentResult result, string token, int min, int max, string expected)
    {
        if (int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            && value >= min && value <= max)
        {
            return value;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not {expected}");
        return 0;
    }

    private static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    private static IPAddress ParseAddress(ArgumentResult result)
    {
        var token = Single(result);
        if (IPAddress.TryParse(token, out var address))
        {
            return address;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not an IPv4 or IPv6 address");
        return IPAddress.Loopback;
    }

    private static string? ParseSocketPath(ArgumentResult result)
    {
        var token = Single(result);
        // Kestrel takes absolute paths only; sun_path holds 108 bytes, the terminating NUL included.
        var path = token.Length > 0 ? Path.GetFullPath(token) : token;
        if (path.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(path) > 107)
        {
            result.AddError($"{OptionName(result)}: '{token}' is not a socket path of 1 to 107 bytes (made absolute)");
            return null;
        }
        return path;
    }

    /// <summary>An octal permission mode with the owner's read and write, nothing executable or special.</summary>
    private static UnixFileMode ParseMode(ArgumentResult result)
    {
        const int ownerReadWrite = 0b110_000_000, readWriteOnly = 0b110_110_110;
        var token = Single(result);
        try
        {
            var mode = token.Length is > 0 and <= 4 ? Convert.ToInt32(token, 8) : -1;
            if ((mode & ownerReadWrite) == ownerReadWrite && (mode & ~readWriteOnly) == 0)
            {
                return (UnixFileMode)mode;
            }
        }
        catch (FormatException)
        {
        }
        result.AddError($"{OptionName(result)}: '{token}' is not a mode from 0600 to 0666 (octal, with the owner's read and write, no execute bits)");
        return TracerOptions.Defaults.OwnerOnly;
    }

    private static int[] ParseFdList(ArgumentResult result)
    {
        var fds = new SortedSet<int>();
        foreach (var token in result.Tokens)
        {
            foreach (var part in token.Value.Split(','))
            {
                if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd > 1_048_576)
                {
                    result.AddError($"{OptionName(result)}: '{token.Value}' is not a comma-separated list of file descriptors (0 or more)");
                    return [];
                }
                fds.Add(fd);
            }
        }
        if (fds.Count > 1024)
        {
            result.AddError($"{OptionName(result)}: at most 1024 file descriptors can be filtered");
            return [];
        }
        return [.. fds];
    }

    private static WriteSyscall[] ParseSyscalls(ArgumentResult result)
    {
        var syscalls = new SortedSet<WriteSyscall>();
        foreach (var name in Single(result).Split(','))
        {
            if (name == "all")
            {
                syscalls.UnionWith(WriteSyscalls.All);
            }
            else if (WriteSyscalls.TryParse(name, out var syscall))
            {
                syscalls.Add(syscall);
            }
            else
            {
                result.AddError($"{OptionName(result)}: '{name}' is not one of {string.Join(", ", WriteSyscalls.All.Select(s => s.Name()))}, all");
                return [];
            }
        }
        return [.. syscalls];
    }

    private static double ParseInterval(ArgumentResult result)
    {
        var token = Single(result);
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0 && seconds <= 86400 && double.IsFinite(seconds))
        {
            return seconds;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not a number of seconds greater than 0 (at most 86400)");
        return 0;
    }

    private static Uri? ParseLokiUrl(ArgumentResult result)
    {
        var token = Single(result);
        if (Uri.TryCreate(token, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0)
        {
            return uri;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not an http:// or https:// URL");
        return null;
    }

    private static KeyValuePair<string, string>[] ParseLokiLabels(ArgumentResult result)
    {
        var labels = new List<KeyValuePair<string, string>>();
        foreach (var token in result.Tokens)
        {
            var equals = token.Value.IndexOf('=');
            if (equals < 0)
            {
                result.AddError($"{OptionName(result)}: '{token.Value}' is not NAME=VALUE");
                return [];
            }
            var (name, value) = (token.Value[..equals], token.Value[(equals + 1)..]);
            var error = LokiPushClient.LabelError(name, value)
                ?? (labels.Any(l => l.Key == name) ? $"the label '{name}' is given twice" : null);
            if (error is not null)
            {
                result.AddError($"{OptionName(result)}: {error}");
                return [];
            }
            labels.Add(new(name, value));
        }
        if (labels.Count > LokiPushClient.MaxExtraLabels)
        {
            result.AddError($"{OptionName(result)}: at most {LokiPushClient.MaxExtraLabels} labels (Loki allows {LokiPushClient.MaxLabels} per stream, the tracer sets {LokiPushClient.TracerLabels.Count})");
            return [];
        }
        return [.. labels];
    }

    private static string? ParseLokiTenant(ArgumentResult result)
    {
        var token = Single(result);
        if (LokiPushClient.TenantError(token) is { } error)
        {
            result.AddError($"{OptionName(result)}: {error}");
            return null;
        }
        return token;
    }

    private static int ParseRingBufferSize(ArgumentResult result)
    {
        var megabytes = ParseInt(result, Single(result), 1, 1024, "a size in MiB from 1 to 1024");
        if (megabytes != 0 && !int.IsPow2(megabytes))
        {
            result.AddError($"{OptionName(result)}: '{megabytes}' is not a power of two");
        }
        return megabytes;
    }

    /// <summary>
    /// A choice's value, or fallback when it is not given. Choices have no parser default,
    /// whose help would show the enum member ("Json") instead of the word typed ("json").
    /// </summary>
    private static T ChoiceOr<T>(ParseResult result, Option<T> choice, T fallback) =>
        result.GetResult(choice) is null ? fallback : result.GetValue(choice)!;

    private static T ParseChoice<T>(ArgumentResult result, T fallback, params (string Name, T Value)[] choices)
    {
        var token = Single(result);
        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, token, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        result.AddError($"{OptionName(result)}: '{token}' is not one of {string.Join(", ", choices.Select(c => c.Name))}");
        return fallback;
    }
}
