using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;

namespace WriteTracer.Api;

/// <summary>
/// The one field a POST body carries (<c>{"pid": N}</c>, <c>{"path": "…"}</c>), read
/// strictly so every malformed body gets a sentence saying what is wrong. Other fields
/// are ignored.
/// </summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = 16 };

    /// <param name="shape">What to send, for the errors: <c>{"pid": N}</c>.</param>
    /// <param name="sample">An example body: <c>{"pid": 1234}</c>.</param>
    /// <param name="value">The field's value, cloned out of the parsed document.</param>
    public static bool TryReadField(ReadOnlyMemory<byte> body, string field, string shape, string sample,
        out JsonElement value, [NotNullWhen(false)] out string? error)
    {
        value = default;
        error = null;
        if (body.IsEmpty)
        {
            error = $"the body is empty: send {shape}";
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
                error = $"the body must be a JSON object like {sample}, not {Describe(root)}";
                return false;
            }
            JsonElement? found = null;
            foreach (var property in root.EnumerateObject())
            {
                if (!property.NameEquals(field))
                {
                    continue;
                }
                if (found is not null)
                {
                    error = $"the body names \"{field}\" more than once";
                    return false;
                }
                found = property.Value;
            }
            if (found is null)
            {
                error = $"the body has no \"{field}\" field: send {shape}";
                return false;
            }
            value = found.Value.Clone();
            return true;
        }
    }

    /// <summary>"a string", "an array", …: what a JSON value is, for errors.</summary>
    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "a number",
    };
}
