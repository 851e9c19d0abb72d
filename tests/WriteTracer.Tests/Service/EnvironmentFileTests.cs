using System.CommandLine;
using System.CommandLine.Help;
using WriteTracer.Cli;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Service;

/// <summary>
/// utilities/systemd/write-tracer.env, installed as /etc/default/write-tracer: every option as a
/// commented-out WRITE_TRACER_* line showing the value the service runs with.
/// </summary>
public sealed class EnvironmentFileTests
{
    private readonly ServiceUnit _service = new();

    [Fact]
    public void Lists_every_option_once_and_sets_none()
    {
        var listed = File.ReadAllLines(ServiceUnit.EnvironmentFilePath)
            .Where(line => line.StartsWith("#" + EnvironmentOptions.Prefix, StringComparison.Ordinal))
            .Select(line => line[1..line.IndexOf('=')]);
        var options = new CommandLine().Root.Options
            .Where(o => o is not HelpOption and not VersionOption)
            .Select(EnvironmentOptions.VariableFor);

        Assert.Equal(options.Order(), listed.Order());
        Assert.Empty(IniFile.Parse(File.ReadAllText(ServiceUnit.EnvironmentFilePath)).Entries);
    }

    [Fact]
    public void Uncommenting_every_line_changes_nothing()
    {
        // The Loki options are refused without an endpoint, which is off by default: both runs set one.
        (string, string)[] loki = [("WRITE_TRACER_LOKI_ENDPOINT", "http://127.0.0.1:3100/loki/api/v1/push")];
        var uncommented = ServiceUnit.UncommentedEnvironmentFile().Entries.Select(e => (e.Key, e.Value)).ToList();

        var asShipped = _service.Options(_service.Environment(loki), out var error);
        var withEveryLine = _service.Options(_service.Environment(uncommented, loki), out var uncommentedError);

        Assert.True(asShipped is not null, error);
        Assert.True(withEveryLine is not null, uncommentedError);
        Assert.Equal(OptionValues.Of(asShipped), OptionValues.Of(withEveryLine));
    }
}
