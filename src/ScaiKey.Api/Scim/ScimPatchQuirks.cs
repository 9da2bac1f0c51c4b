using System.Text.Json.Nodes;
using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Scim;

/// <summary>What the big provisioning clients send that RFC 7644 does not, made standard before a PATCH is applied.</summary>
internal static class ScimPatchQuirks
{
    /// <summary>
    /// Entra ID sends boolean attributes as strings in PATCH ({"op":"Replace","path":"active","value":"False"}, or
    /// {"active":"False"} in a value object without path): Microsoft Learn, "Known issues and resolutions with SCIM 2.0
    /// protocol compliance of the Microsoft Entra user provisioning service". They become real booleans here.
    /// </summary>
    public static IReadOnlyList<ScimPatchOperation> CoerceBooleans(IReadOnlyList<ScimPatchOperation> operations)
    {
        var result = new List<ScimPatchOperation>(operations.Count);
        foreach (var op in operations)
        {
            if (op.Path is { ValueFilter: null, SubAttribute: null } path && path.Attribute.SubAttribute is null
                && string.Equals(path.Attribute.Attribute, "active", StringComparison.OrdinalIgnoreCase)
                && AsBool(op.Value) is { } value)
            {
                result.Add(op with { Value = JsonValue.Create(value) });
            }
            else if (op.Path is null && op.Value is JsonObject obj && ActiveKey(obj) is { } key && AsBool(obj[key]) is { } inner)
            {
                var copy = (JsonObject)obj.DeepClone();
                copy[key] = inner;
                result.Add(op with { Value = copy });
            }
            else
            {
                result.Add(op);
            }
        }

        return result;
    }

    private static string? ActiveKey(JsonObject obj) =>
        obj.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, "active", StringComparison.OrdinalIgnoreCase));

    private static bool? AsBool(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && ScimJson.TryBool(v, out var b) ? b : null;
}

internal static class ScimLists
{
    /// <summary>attributes / excludedAttributes; a resource asked for whole is returned as rendered.</summary>
    public static JsonObject Project(JsonObject resource, IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded, bool user) =>
        attributes is null && excluded is null ? resource
        : ScimProjection.Apply(resource, attributes, excluded, user ? ScimSchemas.UserType : ScimSchemas.GroupType);

    public static JsonObject Response(int total, int startIndex, JsonArray resources) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.ListResponse),
        ["totalResults"] = total,
        ["startIndex"] = startIndex,
        ["itemsPerPage"] = resources.Count,
        ["Resources"] = resources,
    };
}
