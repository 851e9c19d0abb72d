namespace WriteTracer.Api;

/// <summary>How a request reached the API, which decides what the kernel can vouch for.</summary>
internal enum CallerTransport
{
    /// <summary>--rest-socket: SO_PEERCRED gives the caller's pid, uid and gid.</summary>
    UnixSocket,
    /// <summary>TCP from a loopback address: the kernel's socket table gives the uid owning the client's socket.</summary>
    Loopback,
    /// <summary>TCP from another host: nothing is known but what the bearer token proves.</summary>
    Network,
}
