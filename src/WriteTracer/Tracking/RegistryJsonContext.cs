using System.Text.Json.Serialization;

namespace WriteTracer.Tracking;

/// <summary>The state file's JSON, without reflection, in snake_case; unknown fields are ignored.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    RespectRequiredConstructorParameters = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(SavedRegistry))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext;
