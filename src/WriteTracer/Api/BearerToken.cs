using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using Serilog;
using WriteTracer.Hosting;

namespace WriteTracer.Api;

/// <summary>
/// The secret every request presents when --api-token-file is set. Compared as SHA-256
/// digests in constant time, so neither the token's content nor its length leaks
/// through response timing.
/// </summary>
internal sealed class BearerToken
{
    private const string Scheme = "Bearer ";
    private readonly byte[] _digest;

    private BearerToken(byte[] digest) => _digest = digest;

    /// <summary>Reads the token (surrounding whitespace trimmed); a missing, unreadable or empty file stops the start-up.</summary>
    public static BearerToken Load(string path)
    {
        string text;
        UnixFileMode mode;
        try
        {
            text = File.ReadAllText(path);
            mode = new FileInfo(path).UnixFileMode; // File.GetUnixFileMode, without its Windows-unsupported mark spreading to every caller
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new StartupException($"--api-token-file {path}: cannot read it: {e.Message}", e);
        }
        var token = text.Trim();
        if (token.Length == 0)
        {
            throw new StartupException($"--api-token-file {path}: the file is empty");
        }
        if (token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new StartupException($"--api-token-file {path}: the token must be one word, without spaces or control characters");
        }
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
        {
            Log.Warning("--api-token-file {Path} is readable by other users; chmod 600 it", path);
        }
        return new BearerToken(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>True when the Authorization header is exactly one "Bearer TOKEN" with this token.</summary>
    public bool IsPresentedIn(StringValues authorization)
    {
        if (authorization.Count != 1 || authorization[0] is not { } header
            || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, _digest);
    }
}
