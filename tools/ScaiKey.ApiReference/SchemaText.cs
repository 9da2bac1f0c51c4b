using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ScaiKey.ApiReference;

/// <summary>
/// Turns JSON schemas into the type text of the published reference. The rules mirror
/// <c>render()</c> / <c>render_body_type()</c> in shared/tools/contract-check.py on purpose:
/// that script diffs the reference against the live spec, so any drift here would make the
/// regenerated page disagree with the contract check.
/// </summary>
internal static partial class SchemaText
{
    public const string Any = "_any_";

    // Inside a Markdown table cell a bare '|' would start a new column.
    public const string Or = " \\| ";

    private const string SchemaRefPrefix = "#/components/schemas/";

    public static string Render(JsonNode? schema)
    {
        if (schema is not JsonObject s)
        {
            return Any;
        }

        if (s.ContainsKey("$ref"))
        {
            return Link(RefName(s["$ref"]));
        }

        foreach (var key in (ReadOnlySpan<string>)["anyOf", "oneOf"])
        {
            if (s[key] is JsonArray alternatives)
            {
                return string.Join(Or, alternatives.Select(Render));
            }
        }

        if (s["type"] is JsonArray types)
        {
            return string.Join(Or, types.Select(t => RenderTyped(s, t)));
        }

        return RenderTyped(s, s["type"]);
    }

    /// <summary>Request bodies call inline dictionaries "object" even without a <c>type</c>.</summary>
    public static string RenderBody(JsonNode? schema)
    {
        if (schema is not JsonObject s || s.Count == 0)
        {
            return Any;
        }

        if (s.ContainsKey("$ref"))
        {
            return Link(RefName(s["$ref"]));
        }

        if (TypeName(s["type"]) == "object" || s.ContainsKey("additionalProperties"))
        {
            return "object";
        }

        return Render(s);
    }

    public static string Link(string schemaName) => $"[`{schemaName}`](#{Anchor(schemaName)})";

    public static string Anchor(string schemaName) =>
        "schema-" + NonAlphanumeric().Replace(schemaName.ToLowerInvariant(), "-").Trim('-');

    /// <summary>Name of a component schema behind a <c>$ref</c>, or null when it points elsewhere.</summary>
    public static string? ComponentSchemaName(string reference)
    {
        if (!reference.StartsWith(SchemaRefPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        // A pointer into a schema (…/Foo/properties/bar) still makes Foo part of the page.
        var token = reference[SchemaRefPrefix.Length..];
        var slash = token.IndexOf('/', StringComparison.Ordinal);
        return DecodePointerToken(slash < 0 ? token : token[..slash]);
    }

    /// <summary>
    /// Python's <c>str()</c> of a JSON value, because the reference was first produced by a
    /// Python generator: <c>True</c>/<c>False</c>/<c>None</c>, bare top-level strings.
    /// </summary>
    public static string PythonText(JsonNode? value)
    {
        // str('') is empty, which would leave an empty code span that Markdown prints as two
        // backticks; the repr is what a reader needs to see there.
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0)
        {
            return "''";
        }

        return PythonText(value, nested: false);
    }

    private static string PythonText(JsonNode? value, bool nested)
    {
        switch (value)
        {
            case null:
                return "None";
            case JsonArray array:
                return "[" + string.Join(", ", array.Select(item => PythonText(item, nested: true))) + "]";
            case JsonObject obj:
                return "{" + string.Join(", ", obj.Select(p => $"{PythonRepr(p.Key)}: {PythonText(p.Value, nested: true)}")) + "}";
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.True => "True",
            JsonValueKind.False => "False",
            JsonValueKind.Null => "None",
            JsonValueKind.String when nested => PythonRepr(value.GetValue<string>()),
            JsonValueKind.String => value.GetValue<string>(),
            _ => value.ToJsonString(),
        };
    }

    private static string PythonRepr(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('\'');
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => sb.Append("\\\\"),
                '\'' => sb.Append("\\'"),
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                _ => sb.Append(c),
            };
        }

        return sb.Append('\'').ToString();
    }

    // The Python original re-renders the schema with `type` replaced by each entry of a type
    // list, so `$ref`/`anyOf` are already ruled out by the time we get here.
    private static string RenderTyped(JsonObject s, JsonNode? typeNode)
    {
        var type = TypeName(typeNode);
        if (type == "array")
        {
            return "array of " + Render(s["items"]);
        }

        if (type == "object" || (type is null && s.ContainsKey("properties")))
        {
            return "object";
        }

        if (type is null)
        {
            return Any;
        }

        if (type == "string" && s["format"] is JsonValue f && f.GetValueKind() == JsonValueKind.String
            && f.GetValue<string>().Length > 0)
        {
            return $"`string` (`{f.GetValue<string>()}`)";
        }

        return $"`{type}`";
    }

    private static string? TypeName(JsonNode? typeNode) => typeNode switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => typeNode.ToJsonString(),
    };

    private static string RefName(JsonNode? reference)
    {
        var text = reference is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : reference?.ToJsonString() ?? string.Empty;
        return DecodePointerToken(text[(text.LastIndexOf('/') + 1)..]);
    }

    private static string DecodePointerToken(string token) => token.Replace("~1", "/").Replace("~0", "~");

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlphanumeric();
}
