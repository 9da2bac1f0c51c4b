using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim;

/// <summary>Reading SCIM JSON as RFC 7643 §2.1 asks: attribute names without regard to case, booleans as clients send them.</summary>
internal static class ScimJson
{
    /// <summary>The value of an attribute, its name compared without case (null when absent or null).</summary>
    public static JsonNode? Get(JsonObject? o, string name)
    {
        if (o is null)
        {
            return null;
        }

        if (o.TryGetPropertyValue(name, out var exact))
        {
            return exact;
        }

        foreach (var (key, value) in o)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    public static bool Has(JsonObject o, string name) => o.Any(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>A string value; false when present but not a string.</summary>
    public static bool TryString(JsonNode? node, out string? value)
    {
        value = null;
        if (node is null)
        {
            return true;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }

        return false;
    }

    /// <summary>
    /// A boolean, also from the strings "True"/"False" in any case: Entra ID sends active and primary that way
    /// (Microsoft Learn, "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user
    /// provisioning service": PATCH values of boolean attributes sent as strings).
    /// </summary>
    public static bool TryBool(JsonNode? node, out bool? value)
    {
        value = null;
        if (node is null)
        {
            return true;
        }

        if (node is JsonValue v)
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.True:
                    value = true;
                    return true;
                case JsonValueKind.False:
                    value = false;
                    return true;
                case JsonValueKind.String when bool.TryParse(v.GetValue<string>().Trim(), out var parsed):
                    value = parsed;
                    return true;
            }
        }

        return false;
    }

    public static bool IsUrn(string key) => key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase);
}
