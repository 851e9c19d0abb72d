namespace WriteTracer.Api;

/// <summary>A status of <see cref="ErrorResult{TStatus}"/>, as a type so the result's type names it.</summary>
internal interface IErrorStatus
{
    static abstract int Code { get; }
}
