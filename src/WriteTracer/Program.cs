using System.CommandLine;
using Serilog;
using WriteTracer.Bpf;
using WriteTracer.Cli;
using WriteTracer.Diagnostics;
using WriteTracer.Hosting;

var commandLine = new CommandLine();
var options = commandLine.Parse(args, out var parsed, out var error);
if (CommandLine.IsInformational(parsed))
{
    return parsed.Invoke();
}
if (options is null)
{
    Console.Error.WriteLine($"write-tracer: {error}");
    return 2;
}

Logging.Configure(options.LogLevel);
try
{
    return await TracerHost.RunAsync(options);
}
catch (Exception e) when (e is StartupException or BpfException)
{
    Log.CloseAndFlush();
    Console.Error.WriteLine($"write-tracer: {e.Message}");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
