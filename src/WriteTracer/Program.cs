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
string failure;
int exitCode;
try
{
    return await TracerHost.RunAsync(options);
}
catch (Exception e) when (e is StartupException or BpfException)
{
    failure = e.Message;
    exitCode = e is StartupException startup ? startup.ExitCode : 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
// After the log is flushed, so the reason is the last line on stderr.
Console.Error.WriteLine($"write-tracer: {failure}");
return exitCode;
