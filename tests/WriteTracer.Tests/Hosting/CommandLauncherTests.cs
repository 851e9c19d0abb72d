using WriteTracer.Hosting;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Hosting;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CommandLauncherTests : IDisposable
{
    private readonly TempDirectory _first = new("wt-path-a-");
    private readonly TempDirectory _second = new("wt-path-b-");

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    private string SearchPath => $"{_first.Path}:{_second.Path}";

    private static void Create(string directory, string name, UnixFileMode mode)
    {
        var file = Path.Join(directory, name);
        File.WriteAllText(file, "#!/bin/sh\n");
        File.SetUnixFileMode(file, mode);
    }

    [Theory]
    [InlineData("/usr/bin/python3", "python3")]
    [InlineData("make", "make")]
    [InlineData("./a-rather-long-script-name.sh", "a-rather-long-s")]
    [InlineData("/opt/ü/ééééééééé", "ééééééé")]
    public void The_comm_after_exec_is_the_last_path_component_cut_to_15_bytes(string command, string expected) =>
        Assert.Equal(expected, CommandLauncher.CommOf(command));

    [Fact]
    public void A_name_is_the_first_executable_file_of_that_name_in_path_as_the_shell_finds_it()
    {
        Create(_first.Path, "tool", UnixFileMode.UserRead); // not executable: the shell looks further
        Create(_second.Path, "tool", UnixFileMode.UserRead | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Join(_first.Path, "dir"));

        Assert.Null(CommandLauncher.Unrunnable("tool", SearchPath));
        Assert.Equal(("not found in PATH", 127), CommandLauncher.Unrunnable("dir", SearchPath));
        Assert.Equal(("not found in PATH", 127), CommandLauncher.Unrunnable("absent", SearchPath));
    }

    [Fact]
    public void A_name_found_in_path_only_unexecutable_is_permission_denied()
    {
        Create(_second.Path, "data", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Equal(("permission denied", 126), CommandLauncher.Unrunnable("data", SearchPath));
    }

    [Fact]
    public void A_path_is_taken_as_it_is_whatever_path_says()
    {
        Create(_first.Path, "tool", UnixFileMode.UserRead | UnixFileMode.UserExecute);

        Assert.Null(CommandLauncher.Unrunnable(Path.Join(_first.Path, "tool"), path: ""));
        Assert.Equal(("no such file", 127), CommandLauncher.Unrunnable(Path.Join(_second.Path, "tool"), SearchPath));
        Assert.Equal(("it is a directory", 126), CommandLauncher.Unrunnable(_first.Path, SearchPath));
    }
}
