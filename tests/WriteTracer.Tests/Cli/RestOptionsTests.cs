using System.Net;
using WriteTracer.Cli;

namespace WriteTracer.Tests.Cli;

/// <summary>The REST API's command-line options: defaults, enabling, one-line errors.</summary>
public sealed class RestOptionsTests
{
    [Fact]
    public void The_api_is_off_by_default_and_binds_loopback_when_enabled()
    {
        var off = Parse("-p", "1");
        Assert.False(off.AcceptsRegistrations);

        var on = Parse("--rest-port", "9092");
        Assert.True(on.AcceptsRegistrations);
        Assert.Equal(IPAddress.Loopback, on.RestAddress);
        Assert.Null(on.RestSocket);
        Assert.Null(on.ApiTokenFile);
    }

    [Fact]
    public void A_socket_alone_enables_the_api_as_a_daemon()
    {
        var options = Parse("--rest-socket", "/run/wt.sock", "--api-token-file", "/etc/wt.token");

        Assert.True(options.AcceptsRegistrations);
        Assert.Equal(0, options.RestPort);
        Assert.Equal("/run/wt.sock", options.RestSocket);
        Assert.Equal("/etc/wt.token", options.ApiTokenFile);
    }

    [Fact]
    public void An_explicit_address_is_kept()
    {
        Assert.Equal(IPAddress.IPv6Any, Parse("-r", "9092", "--rest-address", "::", "--api-token-file", "/t").RestAddress);
    }

    [Theory]
    [InlineData("--rest-address: 'localhost' is not an IPv4 or IPv6 address", "-r", "9092", "--rest-address", "localhost")]
    [InlineData("--rest-address: the REST API is off; enable it with --rest-port PORT or --rest-socket PATH", "-p", "1", "--rest-address", "0.0.0.0")]
    [InlineData("--api-token-file: the REST API is off; enable it with --rest-port PORT or --rest-socket PATH", "-p", "1", "--api-token-file", "/t")]
    [InlineData("--api-token-file: the path is empty", "-r", "9092", "--api-token-file", "")]
    [InlineData("--rest-socket: '' is not a socket path of 1 to 107 bytes (made absolute)", "--rest-socket", "")]
    [InlineData("--rest-port: '70000' is not a port from 0 to 65535", "--rest-port", "70000")]
    [InlineData("--rest-address 0.0.0.0: callers from other hosts cannot be identified; a non-loopback address needs --api-token-file", "-r", "9092", "--rest-address", "0.0.0.0")]
    [InlineData("--rest-address 10.1.2.3: callers from other hosts cannot be identified; a non-loopback address needs --api-token-file", "-r", "9092", "--rest-address", "10.1.2.3")]
    [InlineData("--rest-socket-mode: '0777' is not a mode from 0600 to 0666 (octal, with the owner's read and write, no execute bits)", "--rest-socket", "/s", "--rest-socket-mode", "0777")]
    [InlineData("--rest-socket-mode: '0400' is not a mode from 0600 to 0666 (octal, with the owner's read and write, no execute bits)", "--rest-socket", "/s", "--rest-socket-mode", "0400")]
    [InlineData("--rest-socket-mode: '0668' is not a mode from 0600 to 0666 (octal, with the owner's read and write, no execute bits)", "--rest-socket", "/s", "--rest-socket-mode", "0668")]
    [InlineData("--file-mode: 'rw-r-----' is not a mode from 0600 to 0666 (octal, with the owner's read and write, no execute bits)", "-p", "1", "-o", "/f", "--file-mode", "rw-r-----")]
    [InlineData("--file-mode: '4600' is not a mode from 0600 to 0666 (octal, with the owner's read and write, no execute bits)", "-p", "1", "-o", "/f", "--file-mode", "4600")]
    [InlineData("--rest-socket-mode needs --rest-socket", "-r", "9092", "--rest-socket-mode", "0666")]
    [InlineData("--file-mode needs --file-output", "-p", "1", "--file-mode", "0640")]
    [InlineData("--state-file: the path is empty", "-r", "9092", "--state-file", "")]
    public void Bad_values_are_one_line_errors_naming_the_option(string expected, params string[] args)
    {
        Assert.Null(new CommandLine().Parse(args, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void A_socket_path_too_long_for_sun_path_is_refused()
    {
        var path = "/" + new string('s', 107);
        Assert.Null(new CommandLine().Parse(["--rest-socket", path], out _, out var error));
        Assert.Equal($"--rest-socket: '{path}' is not a socket path of 1 to 107 bytes (made absolute)", error);
    }

    [Fact]
    public void Modes_are_owner_only_by_default_and_octal_when_given()
    {
        var defaults = Parse("--rest-socket", "/s", "-o", "/f");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, defaults.RestSocketMode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, defaults.FileMode);
        Assert.Null(defaults.StateFile);

        var given = Parse("--rest-socket", "/s", "--rest-socket-mode", "666", "-o", "/f", "--file-mode", "0640", "--state-file", "/var/lib/wt.json");
        Assert.Equal((UnixFileMode)0b110_110_110, given.RestSocketMode);
        Assert.Equal((UnixFileMode)0b110_100_000, given.FileMode);
        Assert.Equal("/var/lib/wt.json", given.StateFile);
    }

    [Fact]
    public void A_non_loopback_address_with_a_token_is_accepted()
    {
        Assert.Equal(IPAddress.Any, Parse("-r", "9092", "--rest-address", "0.0.0.0", "--api-token-file", "/t").RestAddress);
    }

    [Fact]
    public void A_relative_socket_path_is_made_absolute()
    {
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "wt.sock"), Parse("--rest-socket", "wt.sock").RestSocket);
    }

    [Fact]
    public void Nothing_to_trace_mentions_every_way_in()
    {
        Assert.Null(new CommandLine().Parse([], out _, out var error));
        Assert.Equal("nothing to trace: give -p PID, --cgroup PATH, a command after --, or --rest-port PORT (or --rest-socket PATH) to register processes at run time", error);
    }

    private static TracerOptions Parse(params string[] args)
    {
        var options = new CommandLine().Parse(args, out _, out var error);
        Assert.True(options is not null, error);
        return options;
    }
}
