using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Serilog.Events;
using WriteTracer.Bpf;
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
        Description = "Process to trace, with its threads and descendants (repeatable)",
        HelpName = "PID",
        CustomParser = r => [.. r.Tokens.Select(t => ParseInt(r, t.Value, 1, int.MaxValue, "a positive process id"))],
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
        Description = "Also write JSON lines to this file, rotated by record count [default: off]",
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
        Description = $"Label added to every Loki stream besides job, host and root_pid (repeatable, at most {LokiPushClient.MaxExtraLabels}) [default: none]",
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

    private readonly Option<int> _lokiQueue = new("--loki-queue-events")
    {
        Description = "Events held for Loki while it is slow or down; beyond that they are dropped and counted",
        HelpName = "N",
        DefaultValueFactory = _ => TracerOptions.Defaults.LokiQueueEvents,
        CustomParser = r => ParseInt(r, Single(r), 1, 10_000_000, "a number of events from 1 to 10000000"),
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

    private readonly Option<bool> _noStdout = new("--no-stdout", "-q")
    {
        Description = "Do not write events to standard output [default: off]",
    };

    private readonly Option<int> _captureBytes = new("--capture-bytes")
    {
        Description = $"Bytes of each write's buffer captured, 0 to {WriteEvent.MaxCapture}; 0 captures none",
        HelpName = "N",
        DefaultValueFactory = _ => TracerOptions.Defaults.CaptureBytes,
        CustomParser = r => ParseInt(r, Single(r), 0, WriteEvent.MaxCapture, $"a byte count from 0 to {WriteEvent.MaxCapture}"),
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

    private readonly Option<LogEventLevel> _logLevel = new("--log-level")
    {
        Description = "Diagnostics on stderr: debug, info, warning or error",
        HelpName = "LEVEL",
        DefaultValueFactory = _ => LogEventLevel.Information,
        CustomParser = ParseLogLevel,
    };

    private readonly Argument<string[]> _command = new("COMMAND")
    {
        Description = "After --: a command to launch and trace from its first instruction; write-tracer exits with its exit code",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public CommandLine()
    {
        Root = new RootCommand(
            "Traces the write(2) calls of processes, their threads and descendants with eBPF, " +
            "and streams each call as JSON.")
        {
            _pid, _fds, _fileOutput, _maxRecords, _maxBackups, _loki, _lokiLabels, _lokiTenant, _lokiQueue,
            _interval, _metricsPort, _metricsAddress, _restPort, _noStdout, _captureBytes, _ringBuffer,
            _maxTracked, _logLevel, _command,
        };
    }

    public RootCommand Root { get; }

    /// <summary>Parses args; on failure returns null and the error line to print.</summary>
    public TracerOptions? Parse(IReadOnlyList<string> args, out ParseResult result, out string? error)
    {
        result = Root.Parse(args);
        error = null;
        if (result.Errors.Count > 0)
        {
            error = result.Errors[0].Message;
            return null;
        }
        var options = new TracerOptions
        {
            Pids = result.GetValue(_pid) ?? [],
            FileDescriptors = result.GetValue(_fds) ?? [],
            FileOutput = result.GetValue(_fileOutput),
            MaxRecordsPerFile = result.GetValue(_maxRecords),
            MaxBackups = result.GetValue(_maxBackups),
            LokiEndpoint = result.GetValue(_loki),
            LokiLabels = result.GetValue(_lokiLabels) ?? [],
            LokiTenant = result.GetValue(_lokiTenant),
            LokiQueueEvents = result.GetValue(_lokiQueue),
            TrackingInterval = TimeSpan.FromSeconds(result.GetValue(_interval)),
            MetricsPort = result.GetValue(_metricsPort),
            MetricsAddress = result.GetValue(_metricsAddress) ?? IPAddress.Any,
            RestPort = result.GetValue(_restPort),
            NoStdout = result.GetValue(_noStdout),
            CaptureBytes = result.GetValue(_captureBytes),
            RingBufferMegabytes = result.GetValue(_ringBuffer),
            MaxTrackedProcesses = result.GetValue(_maxTracked),
            LogLevel = result.GetValue(_logLevel),
            Command = result.GetValue(_command) ?? [],
        };
        if (options.FileOutput is { Length: 0 })
        {
            error = "--file-output: the path is empty";
            return null;
        }
        if (options.LokiEndpoint is null && FirstGiven(result, _lokiLabels, _lokiTenant, _lokiQueue) is { } lokiOption)
        {
            error = $"{lokiOption.Name} needs --loki-endpoint";
            return null;
        }
        if (options.Pids.Count == 0 && options.Command.Count == 0 && options.RestPort == 0)
        {
            error = "nothing to trace: give -p PID, a command after --, or --rest-port PORT to register processes at run time";
            return null;
        }
        return options;
    }

    /// <summary>True when the arguments ask for help or the version rather than a run.</summary>
    public static bool IsInformational(ParseResult result) =>
        result.Errors.Count == 0 && result.Action is not null; // the root has no action of its own: only --help and --version do

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

    private static IPAddress ParseAddress(ArgumentResult result)
    {
        var token = Single(result);
        if (IPAddress.TryParse(token, out var address))
        {
            return address;
        }
        result.AddError($"{OptionName(result)}: '{token}' is not an IP address");
        return IPAddress.Any;
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

    private static LogEventLevel ParseLogLevel(ArgumentResult result)
    {
        var token = Single(result);
        LogEventLevel? level = token.ToLowerInvariant() switch
        {
            "debug" => LogEventLevel.Debug,
            "info" or "information" => LogEventLevel.Information,
            "warning" or "warn" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => null,
        };
        if (level is null)
        {
            result.AddError($"{OptionName(result)}: '{token}' is not one of debug, info, warning, error");
        }
        return level ?? LogEventLevel.Information;
    }
}
