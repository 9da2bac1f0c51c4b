using ScaiKey.Api.Infrastructure;

namespace ScaiKey.Api.Errors;

/// <summary>The REST API's answer to a service's <see cref="Failure"/>: problem+json, or the 422 validation body.</summary>
internal static class FailureResults
{
    public static IResult ToResult(this Failure failure) => failure.Kind switch
    {
        FailureKind.NotFound => Problems.NotFound(failure.Detail),
        FailureKind.Invalid => (failure.Errors ?? new ValidationErrors()).ToResult(),
        FailureKind.Forbidden => Problems.Forbidden(failure.Detail),
        FailureKind.Conflict => failure.Type is null ? Problems.Conflict(failure.Detail) : Problems.Conflict(failure.Type, failure.Detail),

        // The contract's own wording, whatever the service said.
        FailureKind.PreconditionFailed => Problems.PreconditionFailed(),
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure.Kind, "unknown failure kind"),
    };
}
