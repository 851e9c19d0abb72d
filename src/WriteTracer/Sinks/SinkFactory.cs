using Serilog;
using WriteTracer.Cli;
using WriteTracer.Diagnostics;
using WriteTracer.Sinks.Loki;
using WriteTracer.Tracking;

namespace WriteTracer.Sinks;

/// <summary>The sinks the options ask for; a path that cannot be written is a start-up error.</summary>
internal static class SinkFactory
{
    /// <summary>Queue of the stdout and file sinks, in events (Loki's is --loki-queue-events).</summary>
    public const long QueueEvents = 65536;

    public static List<EventSink> Create(TracerOptions options, CgroupNames cgroupNames, Action onStdoutClosed)
    {
        var sinks = new List<EventSink>();
        if (!options.NoStdout)
        {
            sinks.Add(StdoutSink.Open(onStdoutClosed, QueueEvents, options.Format));
        }
        if (options.FileOutput is { } path)
        {
            var file = new RotatingFileSink(path, options.MaxRecordsPerFile, options.MaxBackups, QueueEvents, options.Format, options.FileMode);
            Log.Information("writing events to {Path}, {Records:l} per file, {Backups:l} kept",
                file.FilePath, Plural.Count(options.MaxRecordsPerFile, "record", "records"),
                options.MaxBackups == 0 ? "all backups" : Plural.Count(options.MaxBackups, "backup", "backups"));
            sinks.Add(file);
        }
        if (options.LokiEndpoint is { } endpoint)
        {
            var client = new LokiPushClient(endpoint, options.LokiLabels, options.LokiTenant, Environment.MachineName,
                rootPidLabel: options.LokiRootPidLabel, cgroupNames: cgroupNames);
            Log.Information("pushing events to Loki at {Endpoint}", client.Endpoint);
            sinks.Add(new LokiSink(client, options.LokiQueueEvents, LokiSink.DefaultGiveUpAfter));
        }
        return sinks;
    }
}
