using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace WriteTracer.Diagnostics;

/// <summary>Diagnostics go to stderr only: stdout carries nothing but events.</summary>
internal static class Logging
{
    public static LoggingLevelSwitch Level { get; } = new(LogEventLevel.Information);

    public static void Configure(LogEventLevel level)
    {
        Level.MinimumLevel = level;
        Log.Logger = new LoggerConfiguration()
            .MinimumLevel.ControlledBy(Level)
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .CreateLogger();
    }

    /// <summary>Routes ASP.NET Core's logging (Kestrel included) to the same stderr log, never stdout.</summary>
    public static void UseForAspNetCore(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSerilog(dispose: false);
        logging.AddFilter<SerilogLoggerProvider>("Microsoft.AspNetCore", Microsoft.Extensions.Logging.LogLevel.Warning);
        logging.AddFilter<SerilogLoggerProvider>("Microsoft.Hosting", Microsoft.Extensions.Logging.LogLevel.Warning);
        // A server that cannot start surfaces as one start-up error line; the host's own report would repeat it with a stack.
        logging.AddFilter<SerilogLoggerProvider>("Microsoft.Extensions.Hosting", Microsoft.Extensions.Logging.LogLevel.Critical);
    }
}
