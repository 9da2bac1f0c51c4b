using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

// STUB (contract between the SCIM helpers): PATCH (RFC 7644 §3.5.2) on a resource's JSON representation.

/// <summary>One operation; Op is normalised to lower case ("add", "replace", "remove") whatever case the client sent.</summary>
internal sealed record ScimPatchOperation(string Op, ScimPath? Path, JsonNode? Value);

internal static class ScimPatch
{
    /// <summary>
    /// Reads a PatchOp body: the PatchOp schema, <c>Operations</c> (op case-insensitive: Entra sends "Replace"),
    /// paths parsed. Errors are invalidSyntax / invalidPath / invalidValue.
    /// </summary>
    public static bool TryParse(JsonNode? body, [NotNullWhen(true)] out IReadOnlyList<ScimPatchOperation>? operations, [NotNullWhen(false)] out ScimError? error) =>
        throw new NotImplementedException();

    /// <summary>
    /// Applies operations to a resource's SCIM representation (as GET renders it) and returns the new representation;
    /// the caller stores it with PUT's rules. Handles add/replace/remove with and without path, value objects without
    /// path (merged attribute by attribute, extension URNs as keys included), value filters, multi-valued add (append,
    /// no duplicates), sub-attributes, attribute names case-insensitive. Refuses readOnly/immutable changes
    /// (mutability), a remove without path (noTarget), a filter matching nothing on replace/remove (noTarget).
    /// </summary>
    public static bool TryApply(JsonObject resource, IReadOnlyList<ScimPatchOperation> operations, ScimResourceType type,
        [NotNullWhen(true)] out JsonObject? patched, [NotNullWhen(false)] out ScimError? error) =>
        throw new NotImplementedException();
}

internal static class ScimProjection
{
    /// <summary>
    /// Applies <c>attributes</c> / <c>excludedAttributes</c> (RFC 7644 §3.9) to a rendered resource: "always" attributes
    /// (id, schemas) stay; names may be schema-qualified and are case-insensitive.
    /// </summary>
    public static JsonObject Apply(JsonObject resource, IReadOnlyList<string>? attributes, IReadOnlyList<string>? excludedAttributes, ScimResourceType type) =>
        throw new NotImplementedException();
}
