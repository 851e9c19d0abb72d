using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace WriteTracer.Api;

/// <summary>The body of POST /pids: <c>{"pid": N}</c>. Other fields are ignored.</summary>
internal sealed record RegisterRequest(int Pid)
{
    private const int MaxShownChars = 40;

    /// <summary>
    /// Parses a body strictly (<see cref="RequestBody"/>). The sign and range of an
    /// integer pid are the registry's to judge.
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, [NotNullWhen(true)] out RegisterRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (!RequestBody.TryReadField(body, "pid", """{"pid": N}""", """{"pid": 1234}""", out var pid, out error)
            || !TryReadPid(pid, out var value, out error))
        {
            return false;
        }
        request = new RegisterRequest(value);
        return true;
    }

    private static bool TryReadPid(JsonElement element, out int pid, [NotNullWhen(false)] out string? error)
    {
        pid = 0;
        error = null;
        if (element.ValueKind != JsonValueKind.Number)
        {
            error = $"\"pid\" must be an integer, not {RequestBody.Describe(element)}";
            return false;
        }
        if (element.TryGetInt32(out pid))
        {
            return true;
        }
        var text = element.GetRawText();
        var shown = text.Length <= MaxShownChars ? text : text[..MaxShownChars] + "…";
        error = text.AsSpan().IndexOfAny(".eE") >= 0 ? $"\"pid\" must be an integer, not {shown}"
            : text.StartsWith('-') ? $"\"pid\" must be a positive process id, not {shown}"
            : $"\"pid\" {shown} is out of range: no process id is that large";
        return false;
    }
}
