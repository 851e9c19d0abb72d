using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;

namespace WriteTracer.Api;

/// <summary>The body of POST /pids: <c>{"pid": N}</c>. Other fields are ignored.</summary>
internal sealed record RegisterRequest(int Pid)
{
    private const int MaxShownChars = 40;
    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = 16 };

    /// <summary>
    /// Parses a body strictly, so every malformed request gets a sentence saying what is
    /// wrong. The sign and range of an integer pid are the registry's to judge.
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, [NotNullWhen(true)] out RegisterRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        error = null;
        if (body.IsEmpty)
        {
            error = """the body is empty: send {"pid": N}""";
            return false;
        }
        if (!Utf8.IsValid(body.Span))
        {
            // The parser checks the encoding only of what it reads, not of fields this body may ignore.
            error = "the body is not valid JSON: it is not UTF-8";
            return false;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, Strict);
        }
        catch (JsonException e)
        {
            error = $"the body is not valid JSON: {e.Message}";
            return false;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $$"""the body must be a JSON object like {"pid": 1234}, not {{Describe(root)}}""";
                return false;
            }
            JsonElement? pid = null;
            foreach (var property in root.EnumerateObject())
            {
                if (!property.NameEquals("pid"))
                {
                    continue;
                }
                if (pid is not null)
                {
                    error = "the body names \"pid\" more than once";
                    return false;
                }
                pid = property.Value;
            }
            if (pid is null)
            {
                error = """the body has no "pid" field: send {"pid": N}""";
                return false;
            }
            if (!TryReadPid(pid.Value, out var value, out error))
            {
                return false;
            }
            request = new RegisterRequest(value);
            return true;
        }
    }

    private static bool TryReadPid(JsonElement element, out int pid, [NotNullWhen(false)] out string? error)
    {
        pid = 0;
        error = null;
        if (element.ValueKind != JsonValueKind.Number)
        {
            error = $"\"pid\" must be an integer, not {Describe(element)}";
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

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "a number",
    };
}
