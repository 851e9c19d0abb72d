using System.Runtime.Versioning;

namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>A setuid-root copy of bin/writer: runs with euid 0 whoever executes it (a privilege-gaining exec).</summary>
[SupportedOSPlatform("linux")]
internal static class SetuidWriter
{
    /// <summary>
    /// Copies the writer into directory (made traversable by every user) as owned by root (the
    /// test's user) with mode 4755. The directory must not be on a nosuid mount: /tmp, not a tmpfs.
    /// </summary>
    public static string CreateIn(string directory)
    {
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        var path = Path.Combine(directory, "setuid-writer");
        File.Copy(Repository.Writer, path);
        File.SetUnixFileMode(path, (UnixFileMode)0b100_111_101_101);
        return path;
    }
}
