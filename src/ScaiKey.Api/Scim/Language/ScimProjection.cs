using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// <c>attributes</c> / <c>excludedAttributes</c> (RFC 7644 §3.9) on a rendered resource. Names are
/// case-insensitive and may be sub-attributes (<c>name.givenName</c>, <c>emails.value</c>), schema-qualified
/// (<c>urn:...:enterprise:2.0:User:department</c>) or a whole extension's URN. "returned: always" attributes (id,
/// schemas) stay whatever is asked; "returned: never" ones (password) never appear. Unknown names are ignored.
/// </summary>
internal static class ScimProjection
{
    public static JsonObject Apply(JsonObject resource, IReadOnlyList<string>? attributes, IReadOnlyList<string>? excludedAttributes, ScimResourceType type)
    {
        JsonObject result;
        var requested = attributes?.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()).ToList();
        if (requested is { Count: > 0 })
        {
            result = [];
            CopyAlways(resource, result);
            foreach (var name in requested)
            {
                Include(resource, result, name, type);
            }
        }
        else
        {
            result = resource.DeepClone().AsObject();
        }

        foreach (var name in excludedAttributes ?? [])
        {
            if (!string.IsNullOrWhiteSpace(name))
            {
                Exclude(result, name.Trim(), type);
            }
        }

        ScimJson.Remove(result, "password");
        return result;
    }

    private static void CopyAlways(JsonObject resource, JsonObject result)
    {
        foreach (var name in new[] { "schemas", "id" })
        {
            if (ScimJson.FindKey(resource, name) is { } key)
            {
                result[key] = resource[key]?.DeepClone();
            }
        }
    }

    // Where a name points: the object holding it in the representation, its key and optional sub-attribute; or an
    // extension object as a whole (Sub and Key null, Container the extension's URN).
    private readonly record struct Location(string? Extension, string? Key, string? Sub);

    private static Location? Locate(string name, ScimResourceType type)
    {
        if (type.SchemaById(name) is { } whole && whole != type.Schema)
        {
            return new Location(whole.Id, null, null);
        }

        if (!ScimFilterParser.SplitAttrPath(name, out var path))
        {
            return null;
        }

        if (path.Schema is null || string.Equals(path.Schema, type.Schema.Id, StringComparison.OrdinalIgnoreCase))
        {
            return new Location(null, path.Attribute, path.SubAttribute);
        }

        return new Location(type.SchemaById(path.Schema)?.Id ?? path.Schema, path.Attribute, path.SubAttribute);
    }

    private static void Include(JsonObject resource, JsonObject result, string name, ScimResourceType type)
    {
        if (Locate(name, type) is not { } location || IsNever(location, type))
        {
            return;
        }

        var source = resource;
        var target = result;
        if (location.Extension is { } urn)
        {
            if (ScimJson.FindKey(resource, urn) is not { } urnKey || resource[urnKey] is not JsonObject extension)
            {
                return;
            }

            if (location.Key is null)
            {
                result[urnKey] = extension.DeepClone();
                return;
            }

            source = extension;
            if (result[urnKey] is not JsonObject existing)
            {
                existing = [];
                result[urnKey] = existing;
            }

            target = existing;
        }

        if (ScimJson.FindKey(source, location.Key!) is not { } key || source[key] is not { } value)
        {
            return;
        }

        if (location.Sub is null)
        {
            target[key] = value.DeepClone();
            return;
        }

        // name.givenName keeps name with only givenName; emails.value keeps each email with only its value.
        switch (value)
        {
            case JsonObject obj when ScimJson.FindKey(obj, location.Sub) is { } subKey:
                var kept = target[key] as JsonObject ?? [];
                kept[subKey] = obj[subKey]?.DeepClone();
                target[key] = kept;
                break;
            case JsonArray array:
                var elements = target[key] as JsonArray;
                var fresh = elements is null;
                elements ??= new JsonArray(array.Select(_ => (JsonNode?)new JsonObject()).ToArray());
                for (var i = 0; i < array.Count && i < elements.Count; i++)
                {
                    if (array[i] is JsonObject element && ScimJson.FindKey(element, location.Sub) is { } elementKey && elements[i] is JsonObject copy)
                    {
                        copy[elementKey] = element[elementKey]?.DeepClone();
                    }
                }

                if (fresh)
                {
                    target[key] = elements;
                }

                break;
        }
    }

    private static void Exclude(JsonObject result, string name, ScimResourceType type)
    {
        if (Locate(name, type) is not { } location)
        {
            return;
        }

        var container = result;
        if (location.Extension is { } urn)
        {
            if (ScimJson.FindKey(result, urn) is not { } urnKey || result[urnKey] is not JsonObject extension)
            {
                return;
            }

            if (location.Key is null)
            {
                result.Remove(urnKey);
                return;
            }

            container = extension;
        }
        else if (IsAlways(location.Key!) && location.Sub is null)
        {
            return;
        }

        if (ScimJson.FindKey(container, location.Key!) is not { } key)
        {
            return;
        }

        if (location.Sub is null)
        {
            container.Remove(key);
        }
        else
        {
            foreach (var element in ScimFilterEvaluator.Elements(container[key]))
            {
                ScimJson.Remove(element, location.Sub);
            }
        }
    }

    // RFC 7643 §3.1/§7: "schemas" and "id" are returned always.
    private static bool IsAlways(string key) =>
        string.Equals(key, "id", StringComparison.OrdinalIgnoreCase) || string.Equals(key, "schemas", StringComparison.OrdinalIgnoreCase);

    private static bool IsNever(Location location, ScimResourceType type) =>
        location is { Extension: null, Key: { } key } && type.Schema.Attribute(key) is { Returned: ScimReturned.Never };
}
