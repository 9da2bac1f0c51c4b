using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// JSON helpers for SCIM representations: attribute names are case-insensitive (RFC 7643 §2.1), so lookups find
/// "UserName" under "userName"; comparisons follow the attribute's caseExact.
/// </summary>
internal static class ScimJson
{
    /// <summary>The property's actual key in <paramref name="obj"/>, matched case-insensitively; null if absent.</summary>
    public static string? FindKey(JsonObject obj, string name)
    {
        if (obj.ContainsKey(name))
        {
            return name;
        }

        foreach (var (key, _) in obj)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }

    public static JsonNode? Get(JsonObject obj, string name) => FindKey(obj, name) is { } key ? obj[key] : null;

    /// <summary>Sets a property, keeping the key's existing spelling; null or an empty array unassigns it (RFC 7643 §2.5).</summary>
    public static void Set(JsonObject obj, string name, JsonNode? value)
    {
        var key = FindKey(obj, name);
        if (value is null || value is JsonArray { Count: 0 } || (value is JsonValue v && v.GetValueKind() == JsonValueKind.Null))
        {
            if (key is not null)
            {
                obj.Remove(key);
            }

            return;
        }

        obj[key ?? name] = value;
    }

    public static bool Remove(JsonObject obj, string name) => FindKey(obj, name) is { } key && obj.Remove(key);

    /// <summary>Whether a value counts as assigned (RFC 7644 §3.4.2.2 "pr"): not null, not "", not [], not {} of nulls.</summary>
    public static bool IsPresent(JsonNode? node) => node switch
    {
        null => false,
        JsonArray array => array.Any(IsPresent),
        JsonObject obj => obj.Any(p => IsPresent(p.Value)),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => false,
            JsonValueKind.String => value.GetValue<string>().Length > 0,
            _ => true,
        },
        _ => false,
    };

    public static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static bool? AsBoolean(JsonNode? node) => node is JsonValue value
        ? value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        }
        : null;

    public static decimal? AsDecimal(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }

        if (value.TryGetValue<decimal>(out var d))
        {
            return d;
        }

        if (value.TryGetValue<double>(out var real) && real is > (double)decimal.MinValue and < (double)decimal.MaxValue)
        {
            return (decimal)real;
        }

        return decimal.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
    }

    /// <summary>An xsd:dateTime (RFC 7643 §2.3.5) as an instant; a value without an offset is taken as UTC.</summary>
    public static DateTimeOffset? AsDateTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var instant)
            ? instant
            : null;

    /// <summary>Two values equal as SCIM compares them: strings by caseExact, numbers by value, the rest by their JSON.</summary>
    public static bool ValuesEqual(JsonNode? a, JsonNode? b, bool caseExact)
    {
        if (AsString(a) is { } sa && AsString(b) is { } sb)
        {
            return caseExact ? string.Equals(sa, sb, StringComparison.Ordinal) : string.Equals(Fold(sa), Fold(sb), StringComparison.Ordinal);
        }

        if (AsDecimal(a) is { } da && AsDecimal(b) is { } db)
        {
            return da == db;
        }

        return JsonNode.DeepEquals(a, b);
    }

    /// <summary>The case-insensitive form used by the filter and PATCH for caseExact=false strings.</summary>
    public static string Fold(string text) => text.ToLowerInvariant();
}
