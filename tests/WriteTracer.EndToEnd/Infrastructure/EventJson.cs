using System.Text;
using System.Text.Json;

namespace WriteTracer.EndToEnd.Infrastructure;

internal static class EventJson
{
    /// <summary>The captured bytes of an event, from "data" or "data_b64".</summary>
    public static byte[] DataBytes(this JsonElement e) =>
        e.TryGetProperty("data", out var text)
            ? Encoding.UTF8.GetBytes(text.GetString()!)
            : Convert.FromBase64String(e.GetProperty("data_b64").GetString()!);

    public static bool IsTruncated(this JsonElement e) =>
        e.TryGetProperty("truncated", out var truncated) && truncated.GetBoolean();

    public static int Int(this JsonElement e, string property) => e.GetProperty(property).GetInt32();

    /// <summary>"exec" or "exit" for a lifecycle event (--lifecycle), "write" for a write.</summary>
    public static string Kind(this JsonElement e) => e.TryGetProperty("event", out var kind) ? kind.GetString()! : "write";
}
