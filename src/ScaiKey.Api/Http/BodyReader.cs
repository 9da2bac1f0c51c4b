using System.Text.Json;
using System.Text.Json.Nodes;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Http;

/// <summary>A body field that distinguishes "absent" from "null", which PATCH needs.</summary>
internal readonly record struct Optional<T>(bool IsSet, T? Value)
{
    public static Optional<T> Unset => default;
}

/// <summary>
/// Reads the fields of one JSON object with pydantic's error types and messages, and rejects unknown fields
/// (extra_forbidden) so that nothing can be mass-assigned.
/// </summary>
internal sealed class BodyReader(JsonElement root, ValidationErrors errors, params object[] prefix)
{
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public ValidationErrors Errors => errors;

    private readonly object[] _prefix = prefix.Length == 0 ? ["body"] : prefix;

    public object[] Loc(string field) => [.. _prefix, field];

    public object[] Loc(string field, int index) => [.. _prefix, field, index];

    private bool TryGet(string field, out JsonElement value)
    {
        _known.Add(field);
        return root.TryGetProperty(field, out value);
    }

    public string? RequiredString(string field, int maxLength)
    {
        if (!TryGet(field, out var value))
        {
            errors.Missing(Loc(field));
            return null;
        }

        return ReadString(field, value, maxLength, nullable: false);
    }

    public Optional<string> OptionalString(string field, int maxLength, bool nullable = true)
    {
        if (!TryGet(field, out var value))
        {
            return Optional<string>.Unset;
        }

        return new(true, ReadString(field, value, maxLength, nullable));
    }

    public string? String(string field, int maxLength, string? defaultValue = null, bool nullable = true)
    {
        var value = OptionalString(field, maxLength, nullable);
        return value.IsSet ? value.Value : defaultValue;
    }

    public bool Bool(string field, bool defaultValue)
    {
        if (!TryGet(field, out var value))
        {
            return defaultValue;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        errors.Add(Loc(field), "Input should be a valid boolean", "bool_type");
        return defaultValue;
    }

    public Optional<bool?> OptionalBool(string field)
    {
        if (!TryGet(field, out var value))
        {
            return default;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return new(true, value.GetBoolean());
        }

        errors.Add(Loc(field), "Input should be a valid boolean", "bool_type");
        return default;
    }

    public Optional<int?> OptionalInt(string field, int min, int max)
    {
        if (!TryGet(field, out var value))
        {
            return default;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            errors.Add(Loc(field), "Input should be a valid integer", "int_type");
            return default;
        }

        if (number < min)
        {
            errors.Add(Loc(field), $"Input should be greater than or equal to {min}", "greater_than_equal");
        }
        else if (number > max)
        {
            errors.Add(Loc(field), $"Input should be less than or equal to {max}", "less_than_equal");
        }

        return new(true, number);
    }

    /// <summary>A string restricted to fixed values; the message lists them like pydantic's enum/literal errors.</summary>
    public Optional<string> OptionalChoice(string field, IReadOnlyList<string> allowed, bool nullable, string errorType = "enum")
    {
        if (!TryGet(field, out var value))
        {
            return Optional<string>.Unset;
        }

        if (value.ValueKind == JsonValueKind.Null && nullable)
        {
            return new(true, null);
        }

        if (value.ValueKind == JsonValueKind.String && allowed.Contains(value.GetString()!))
        {
            return new(true, value.GetString());
        }

        errors.Add(Loc(field), "Input should be " + Choices.Describe(allowed), errorType);
        return Optional<string>.Unset;
    }

    public string? RequiredChoice(string field, IReadOnlyList<string> allowed, string errorType = "enum")
    {
        if (!root.TryGetProperty(field, out _))
        {
            _known.Add(field);
            errors.Missing(Loc(field));
            return null;
        }

        return OptionalChoice(field, allowed, nullable: false, errorType).Value;
    }

    public List<string>? StringList(string field, int maxItems, int maxLength)
    {
        if (!TryGet(field, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(Loc(field), "Input should be a valid list", "list_type");
            return null;
        }

        var list = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                errors.Add(Loc(field, index), "Input should be a valid string", "string_type");
            }
            else if (item.GetString()!.Length > maxLength)
            {
                errors.Add(Loc(field, index), $"String should have at most {maxLength} characters", "string_too_long");
            }
            else if (item.GetString()!.Contains('\0', StringComparison.Ordinal))
            {
                errors.ValueError(Loc(field, index), "must not contain NUL characters");
            }
            else
            {
                list.Add(item.GetString()!);
            }

            index++;
        }

        if (index > maxItems)
        {
            errors.Add(Loc(field), $"List should have at most {maxItems} items after validation, not {index}", "too_long");
        }

        return list;
    }

    public Optional<JsonObject> OptionalObject(string field, int maxBytes)
    {
        if (!TryGet(field, out var value))
        {
            return Optional<JsonObject>.Unset;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            return new(true, null);
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(Loc(field), "Input should be a valid dictionary", "dict_type");
            return Optional<JsonObject>.Unset;
        }

        var raw = value.GetRawText();
        if (raw.Contains("\\u0000", StringComparison.OrdinalIgnoreCase))
        {
            errors.ValueError(Loc(field), "must not contain NUL characters");
            return Optional<JsonObject>.Unset;
        }

        if (HasDuplicateKeys(value))
        {
            // Stored JSON must read back the same everywhere; parsers disagree on which duplicate wins.
            errors.ValueError(Loc(field), "must not repeat a key within an object");
            return Optional<JsonObject>.Unset;
        }

        if (System.Text.Encoding.UTF8.GetByteCount(raw) > maxBytes)
        {
            errors.ValueError(Loc(field), $"custom_attributes must be at most {maxBytes / 1024} KiB of JSON");
            return Optional<JsonObject>.Unset;
        }

        return new(true, JsonNode.Parse(raw)!.AsObject());
    }

    public JsonElement? RawObject(string field)
    {
        if (!TryGet(field, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(Loc(field), "Input should be a valid dictionary", "dict_type");
            return null;
        }

        return value;
    }

    private static bool HasDuplicateKeys(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().GroupBy(p => p.Name, StringComparer.Ordinal).Any(g => g.Count() > 1)
            || element.EnumerateObject().Any(p => HasDuplicateKeys(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(HasDuplicateKeys),
        _ => false,
    };

    /// <summary>Call last: every field not read above is an error.</summary>
    public void RejectUnknownFields()
    {
        foreach (var property in root.EnumerateObject())
        {
            if (!_known.Contains(property.Name))
            {
                errors.Add(Loc(property.Name), "Extra inputs are not permitted", "extra_forbidden");
            }
        }
    }

    private string? ReadString(string field, JsonElement value, int maxLength, bool nullable)
    {
        if (value.ValueKind == JsonValueKind.Null && nullable)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(Loc(field), "Input should be a valid string", "string_type");
            return null;
        }

        var text = value.GetString()!;
        if (text.Length > maxLength)
        {
            errors.Add(Loc(field), $"String should have at most {maxLength} characters", "string_too_long");
        }
        else if (text.Contains('\0', StringComparison.Ordinal))
        {
            // PostgreSQL cannot store NUL in text; refusing it everywhere keeps both providers alike.
            errors.ValueError(Loc(field), "must not contain NUL characters");
        }

        return text;
    }
}

internal static class Choices
{
    /// <summary>pydantic's wording: "'A', 'B' or 'C'".</summary>
    public static string Describe(IReadOnlyList<string> allowed) =>
        allowed.Count == 1
            ? $"'{allowed[0]}'"
            : string.Join(", ", allowed.Take(allowed.Count - 1).Select(a => $"'{a}'")) + $" or '{allowed[^1]}'";

    public static string[] Of<TEnum>() where TEnum : struct, Enum =>
        Enum.GetValues<TEnum>().Select(ApiJson.WireValue).ToArray();
}
