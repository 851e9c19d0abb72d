using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace WriteTracer.Api;

/// <summary>
/// An error answer with a status TypedResults has no type for (403, 413, 415, 503, 507),
/// <c>{"error": "…"}</c>. Declares its status and body for the OpenAPI document, as the
/// framework's own results do, so a handler's return type lists every answer it gives.
/// </summary>
internal sealed class ErrorResult<TStatus>(string message) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ErrorResponse>, IEndpointMetadataProvider
    where TStatus : IErrorStatus
{
    public ErrorResponse Value { get; } = new(message);

    object? IValueHttpResult.Value => Value;

    public int? StatusCode => TStatus.Code;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = TStatus.Code;
        return httpContext.Response.WriteAsJsonAsync(Value, ApiJsonContext.Relaxed.ErrorResponse);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(TStatus.Code, typeof(ErrorResponse), ["application/json"]));
}
