namespace WriteTracer.Api;

/// <summary>The statuses of <see cref="ErrorResult{TStatus}"/>.</summary>
internal static class ErrorStatus
{
    public sealed class Forbidden : IErrorStatus
    {
        public static int Code => StatusCodes.Status403Forbidden;
    }

    public sealed class PayloadTooLarge : IErrorStatus
    {
        public static int Code => StatusCodes.Status413PayloadTooLarge;
    }

    public sealed class UnsupportedMediaType : IErrorStatus
    {
        public static int Code => StatusCodes.Status415UnsupportedMediaType;
    }

    public sealed class ServiceUnavailable : IErrorStatus
    {
        public static int Code => StatusCodes.Status503ServiceUnavailable;
    }

    public sealed class InsufficientStorage : IErrorStatus
    {
        public static int Code => StatusCodes.Status507InsufficientStorage;
    }
}
