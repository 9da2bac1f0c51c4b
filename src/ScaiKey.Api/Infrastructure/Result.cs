using System.Diagnostics.CodeAnalysis;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Infrastructure;

/// <summary>Why a service refused or could not complete an operation, in the service's own terms.</summary>
internal enum FailureKind
{
    NotFound,

    // Bad input: Errors lists every failing field (the contract's 422 detail[]).
    Invalid,
    Forbidden,
    Conflict,

    // If-Match named a version that is no longer current.
    PreconditionFailed,
}

/// <summary>
/// A service's failure. Services return it (alone, or inside <see cref="Result{T}"/>) instead of an HTTP answer; each
/// edge translates it into its own format: problem+json and 422 for the REST API (<see cref="FailureResults"/>), the
/// SCIM error for SCIM. <paramref name="Type"/> names a specific problem clients branch on (a 409's kind).
/// </summary>
internal sealed record Failure(FailureKind Kind, string Detail, string? Type = null, ValidationErrors? Errors = null)
{
    public static Failure NotFound(string detail) => new(FailureKind.NotFound, detail);

    public static Failure Invalid(ValidationErrors errors) => new(FailureKind.Invalid, "The request is not valid.", Errors: errors);

    /// <summary>One field's value error (loc, "Value error, " + message), the common case of <see cref="Invalid"/>.</summary>
    public static Failure Invalid(IReadOnlyList<object> loc, string message)
    {
        var errors = new ValidationErrors();
        errors.ValueError(loc, message);
        return Invalid(errors);
    }

    public static Failure Forbidden(string detail) => new(FailureKind.Forbidden, detail);

    public static Failure Conflict(string detail, string? type = null) => new(FailureKind.Conflict, detail, type);

    public static Failure PreconditionFailed() => new(FailureKind.PreconditionFailed, "The version given in If-Match is not current.");
}

/// <summary>A value, or the <see cref="Failure"/> that stands in for it. Converts implicitly from either.</summary>
internal readonly struct Result<T>
{
    private Result(T? value, Failure? failure)
    {
        Value = value;
        Failure = failure;
    }

    public T? Value { get; }

    public Failure? Failure { get; }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Failure is null;

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Failure failure) => new(default, failure);
}
