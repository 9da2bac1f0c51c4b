namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// A SCIM error (RFC 7644 §3.12): the HTTP status, the <c>scimType</c> where the RFC defines one (invalidFilter,
/// invalidPath, invalidValue, invalidSyntax, uniqueness, mutability, noTarget, tooMany, tooLarge), and a detail
/// safe to show the client. The endpoints render it in the Error schema.
/// </summary>
internal sealed record ScimError(int Status, string? ScimType, string Detail)
{
    public static ScimError InvalidFilter(string detail) => new(400, "invalidFilter", detail);
    public static ScimError InvalidPath(string detail) => new(400, "invalidPath", detail);
    public static ScimError InvalidValue(string detail) => new(400, "invalidValue", detail);
    public static ScimError InvalidSyntax(string detail) => new(400, "invalidSyntax", detail);
    public static ScimError NoTarget(string detail) => new(400, "noTarget", detail);
    public static ScimError Mutability(string detail) => new(400, "mutability", detail);
}
