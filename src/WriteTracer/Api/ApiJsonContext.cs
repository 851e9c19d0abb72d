using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WriteTracer.Api;

/// <summary>The REST API's JSON shapes, serialized without reflection, in snake_case.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisteredResponse))]
[JsonSerializable(typeof(MessageResponse))]
[JsonSerializable(typeof(ProcessResponse))]
[JsonSerializable(typeof(ProcessListResponse))]
[JsonSerializable(typeof(CgroupRequest))]
[JsonSerializable(typeof(CgroupRegisteredResponse))]
[JsonSerializable(typeof(CgroupResponse))]
[JsonSerializable(typeof(CgroupListResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Escapes only what JSON requires. The default also escapes characters that matter
    /// only inside HTML (' + &lt; &gt; &amp;), which would make every error sentence read
    /// as \u0027…\u0027; responses are application/json, never embedded in a page.
    /// </summary>
    public static ApiJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
