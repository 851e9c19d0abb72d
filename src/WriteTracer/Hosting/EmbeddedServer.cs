using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using WriteTracer.Diagnostics;

namespace WriteTracer.Hosting;

/// <summary>
/// What the tracer's two small HTTP servers (metrics and the REST API) share: an
/// application built from nothing (no configuration files, no environment variables, so
/// what it listens on is exactly what the command line says), Kestrel alone, routing,
/// and ASP.NET Core's logging in the diagnostics log; and a start at which failing to
/// bind is a start-up error.
/// </summary>
internal static class EmbeddedServer
{
    /// <summary>The builder, Kestrel in place: the caller says where it listens (ConfigureKestrel) and adds its own services.</summary>
    public static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "write-tracer" });
        Logging.UseForAspNetCore(builder.Logging);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore();
        return builder;
    }

    /// <summary>Starts the application; on any failure disposes it, and a failure to bind becomes a <see cref="StartupException"/> saying describeBindFailure.</summary>
    public static async Task StartAsync(WebApplication app, Func<Exception, string> describeBindFailure)
    {
        try
        {
            await app.StartAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or AddressInUseException)
        {
            await app.DisposeAsync();
            throw new StartupException(describeBindFailure(e), e);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }
}
