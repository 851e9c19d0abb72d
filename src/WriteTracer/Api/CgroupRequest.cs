using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace WriteTracer.Api;

/// <summary>The body of POST /cgroups: <c>{"path": "system.slice/nginx.service"}</c>. Other fields are ignored.</summary>
internal sealed record CgroupRequest(string Path)
{
    /// <summary>Parses a body strictly (<see cref="RequestBody"/>); what the path names is the registry's to judge.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, [NotNullWhen(true)] out CgroupRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (!RequestBody.TryReadField(body, "path", """{"path": "PATH"}""", """{"path": "system.slice/nginx.service"}""", out var path, out error))
        {
            return false;
        }
        if (path.ValueKind != JsonValueKind.String)
        {
            error = $"\"path\" must be a string, not {RequestBody.Describe(path)}";
            return false;
        }
        var text = path.GetString()!;
        if (text.Length == 0)
        {
            error = "\"path\" is empty: name a cgroup, absolute or relative to the cgroup v2 mount";
            return false;
        }
        request = new CgroupRequest(text);
        return true;
    }
}
