using WriteTracer.Hosting;

namespace WriteTracer.Tests.Hosting;

public sealed class CommandLauncherTests
{
    [Theory]
    [InlineData("/usr/bin/python3", "python3")]
    [InlineData("make", "make")]
    [InlineData("./a-rather-long-script-name.sh", "a-rather-long-s")]
    [InlineData("/opt/ü/ééééééééé", "ééééééé")]
    public void The_comm_after_exec_is_the_last_path_component_cut_to_15_bytes(string command, string expected) =>
        Assert.Equal(expected, CommandLauncher.CommOf(command));
}
