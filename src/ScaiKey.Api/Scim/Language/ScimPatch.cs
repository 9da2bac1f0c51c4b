using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

// PATCH (RFC 7644 §3.5.2) on a resource's JSON representation: reading the PatchOp body here, applying it in
// ScimPatchEngine.

/// <summary>One operation; Op is normalised to lower case ("add", "replace", "remove") whatever case the client sent.</summary>
internal sealed record ScimPatchOperation(string Op, ScimPath? Path, JsonNode? Value);

internal static class ScimPatch
{
    /// <summary>Operations one PATCH request may carry.</summary>
    public const int MaxOperations = 1000;

    /// <summary>
    /// Reads a PatchOp body: the PatchOp schema, <c>Operations</c> (op case-insensitive: Entra sends "Replace"),
    /// paths parsed. Errors are invalidSyntax / invalidPath / invalidValue / noTarget (remove without path).
    /// </summary>
    public static bool TryParse(JsonNode? body, [NotNullWhen(true)] out IReadOnlyList<ScimPatchOperation>? operations, [NotNullWhen(false)] out ScimError? error)
    {
        operations = null;
        if (body is not JsonObject request)
        {
            error = ScimError.InvalidSyntax("The request body must be a PatchOp object.");
            return false;
        }

        if (ScimJson.Get(request, "schemas") is not JsonArray schemas
            || !schemas.Any(s => string.Equals(ScimJson.AsString(s), ScimSchemas.PatchOp, StringComparison.OrdinalIgnoreCase)))
        {
            error = ScimError.InvalidSyntax($"The request's \"schemas\" must hold \"{ScimSchemas.PatchOp}\".");
            return false;
        }

        if (ScimJson.Get(request, "Operations") is not JsonArray items || items.Count == 0)
        {
            error = ScimError.InvalidSyntax("\"Operations\" must be a non-empty array.");
            return false;
        }

        // Each operation may evaluate a filter over a whole rendered member list: a bound keeps one request's work
        // bounded (Entra sends membership changes in batches far smaller than this).
        if (items.Count > MaxOperations)
        {
            error = ScimError.InvalidValue($"A PATCH request may carry at most {MaxOperations} operations.");
            return false;
        }

        var list = new List<ScimPatchOperation>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (!TryParseOperation(items[i], i, out var operation, out error))
            {
                return false;
            }

            list.Add(operation);
        }

        operations = list;
        error = null;
        return true;
    }

    private static bool TryParseOperation(JsonNode? item, int index, [NotNullWhen(true)] out ScimPatchOperation? operation, [NotNullWhen(false)] out ScimError? error)
    {
        operation = null;
        if (item is not JsonObject obj)
        {
            error = ScimError.InvalidSyntax($"Operations[{index}] must be an object.");
            return false;
        }

        var op = ScimJson.AsString(ScimJson.Get(obj, "op"))?.ToLowerInvariant();
        if (op is not ("add" or "replace" or "remove"))
        {
            error = ScimError.InvalidSyntax($"Operations[{index}].op must be \"add\", \"replace\" or \"remove\".");
            return false;
        }

        ScimPath? path = null;
        var pathNode = ScimJson.Get(obj, "path");
        if (pathNode is not null)
        {
            if (ScimJson.AsString(pathNode) is not { } text)
            {
                error = ScimError.InvalidPath($"Operations[{index}].path must be a string.");
                return false;
            }

            if (!ScimFilterParser.TryParsePath(text, out path, out var pathError))
            {
                error = pathError with { Detail = $"Operations[{index}].path: {pathError.Detail}" };
                return false;
            }
        }

        var value = ScimJson.Get(obj, "value");
        if (op == "remove" && path is null)
        {
            // RFC 7644 §3.5.2.2: a remove without "path" fails with noTarget.
            error = ScimError.NoTarget($"Operations[{index}]: \"remove\" needs a \"path\".");
            return false;
        }

        if (op != "remove" && value is null)
        {
            error = ScimError.InvalidValue($"Operations[{index}]: \"{op}\" needs a \"value\".");
            return false;
        }

        if (op != "remove" && path is null && value is not JsonObject)
        {
            error = ScimError.InvalidValue($"Operations[{index}]: without a \"path\", \"value\" must be an object of attributes.");
            return false;
        }

        operation = new ScimPatchOperation(op, path, value?.DeepClone());
        error = null;
        return true;
    }

    /// <summary>
    /// Applies operations to a resource's SCIM representation (as GET renders it) and returns the new representation;
    /// the caller stores it with PUT's rules. Handles add/replace/remove with and without path, value objects without
    /// path (merged attribute by attribute, extension URNs as keys included), value filters, multi-valued add (append,
    /// no duplicates), sub-attributes, attribute names case-insensitive. Refuses readOnly/immutable changes
    /// (mutability), a remove without path (noTarget), a filter matching nothing on replace/remove (noTarget).
    /// The resource passed in is not changed; values are taken as given (no type coercion).
    /// </summary>
    public static bool TryApply(JsonObject resource, IReadOnlyList<ScimPatchOperation> operations, ScimResourceType type,
        [NotNullWhen(true)] out JsonObject? patched, [NotNullWhen(false)] out ScimError? error)
    {
        patched = null;
        var work = resource.DeepClone().AsObject();
        var engine = new ScimPatchEngine(work, type);
        for (var i = 0; i < operations.Count; i++)
        {
            if (!engine.TryApply(operations[i], out error))
            {
                error = error with { Detail = $"Operations[{i}]: {error.Detail}" };
                return false;
            }
        }

        patched = work;
        error = null;
        return true;
    }
}
