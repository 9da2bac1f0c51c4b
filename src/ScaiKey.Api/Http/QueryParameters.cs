using System.Globalization;
using System.Text.Json.Nodes;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Http;

/// <summary>
/// A query parameter that documents itself (OpenAPI) and binds itself with pydantic-style 422 errors, so the
/// documented and enforced rules cannot drift apart.
/// </summary>
internal abstract class QueryParameter(string name, bool required, string? description)
{
    public string Name { get; } = name;
    public bool Required { get; } = required;
    public string? Description { get; } = description;

    public abstract JsonObject Schema();

    // Like FastAPI, a repeated parameter takes its last value.
    protected string? Raw(HttpContext http) =>
        http.Request.Query.TryGetValue(Name, out var values) && values.Count > 0 ? values[^1] : null;
}

internal sealed class QueryParameter<T>(
    string name, bool required, string? description, Func<JsonObject> schema, Func<string, ValidationErrors, string, T?> parse, T? defaultValue)
    : QueryParameter(name, required, description)
{
    public override JsonObject Schema() => schema();

    public T? Read(HttpContext http, ValidationErrors errors)
    {
        var raw = Raw(http);
        if (raw is null)
        {
            if (Required)
            {
                errors.Missing("query", Name);
            }

            return defaultValue;
        }

        return parse(raw, errors, Name);
    }
}

internal static class Query
{
    private static JsonObject Nullable(JsonObject inner) => new() { ["anyOf"] = new JsonArray(inner, new JsonObject { ["type"] = "null" }) };

    public static QueryParameter<int> Int(string name, int defaultValue, int min, int max, string? description = null) =>
        new(name, false, description,
            () => new JsonObject { ["type"] = "integer", ["minimum"] = min, ["maximum"] = max, ["default"] = defaultValue },
            (raw, errors, n) =>
            {
                if (!int.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
                {
                    errors.Query(n, "Input should be a valid integer, unable to parse string as an integer", "int_parsing");
                    return defaultValue;
                }

                if (value < min)
                {
                    errors.Query(n, $"Input should be greater than or equal to {min}", "greater_than_equal");
                }
                else if (value > max)
                {
                    errors.Query(n, $"Input should be less than or equal to {max}", "less_than_equal");
                }

                return value;
            },
            defaultValue);

    public static QueryParameter<string> NullableString(string name, int maxLength, string? description = null) =>
        new(name, false, description, () => Nullable(new JsonObject { ["type"] = "string" }), (raw, errors, n) => CheckString(raw, errors, n, maxLength), null);

    public static QueryParameter<string> RequiredString(string name, int maxLength, string? description = null) =>
        new(name, true, description, () => new JsonObject { ["type"] = "string" }, (raw, errors, n) => CheckString(raw, errors, n, maxLength), null);

    private static string CheckString(string raw, ValidationErrors errors, string name, int maxLength)
    {
        if (raw.Length > maxLength)
        {
            errors.Query(name, $"String should have at most {maxLength} characters", "string_too_long");
        }
        else if (raw.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add(["query", name], "Value error, must not contain NUL characters", "value_error");
        }

        return raw;
    }

    /// <summary>A nullable enum; <paramref name="schemaRef"/> documents it as a $ref, else as a plain string.</summary>
    public static QueryParameter<TEnum?> NullableEnum<TEnum>(string name, bool documentAsRef, string? description = null)
        where TEnum : struct, Enum
    {
        var allowed = Choices.Of<TEnum>();
        return new(name, false, description,
            () => Nullable(documentAsRef
                ? new JsonObject { ["$ref"] = "#/components/schemas/" + typeof(TEnum).Name }
                : new JsonObject { ["type"] = "string" }),
            (raw, errors, n) =>
            {
                var index = Array.IndexOf(allowed, raw);
                if (index < 0)
                {
                    errors.Query(n, "Input should be " + Choices.Describe(allowed), "enum");
                    return null;
                }

                return Enum.GetValues<TEnum>()[index];
            },
            null);
    }

    public static QueryParameter<bool?> NullableBool(string name, string? description = null) =>
        new(name, false, description,
            () => Nullable(new JsonObject { ["type"] = "boolean" }),
            (raw, errors, n) => ParseBool(raw, errors, n),
            null);

    public static QueryParameter<bool> Bool(string name, bool defaultValue, string? description = null) =>
        new(name, false, description,
            () => new JsonObject { ["type"] = "boolean", ["default"] = defaultValue },
            (raw, errors, n) => ParseBool(raw, errors, n) ?? defaultValue,
            defaultValue);

    /// <summary>One of fixed words, documented as a plain string like the reference does.</summary>
    public static QueryParameter<string> Literal(string name, string defaultValue, string[] allowed, string? description = null) =>
        new(name, false, description,
            () => new JsonObject { ["type"] = "string", ["default"] = defaultValue, ["enum"] = new JsonArray(allowed.Select(a => (JsonNode)a!).ToArray()) },
            (raw, errors, n) =>
            {
                if (!allowed.Contains(raw))
                {
                    errors.Query(n, "Input should be " + Choices.Describe(allowed), "literal_error");
                    return defaultValue;
                }

                return raw;
            },
            defaultValue);

    public static QueryParameter<DateTime?> NullableDateTime(string name, string? description = null) =>
        new(name, false, description,
            () => Nullable(new JsonObject { ["type"] = "string", ["format"] = "date-time" }),
            (raw, errors, n) =>
            {
                if (DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var value))
                {
                    return value;
                }

                errors.Query(n, "Input should be a valid datetime", "datetime_parsing");
                return null;
            },
            null);

    // pydantic accepts these spellings for booleans in query strings.
    private static bool? ParseBool(string raw, ValidationErrors errors, string name)
    {
        switch (raw.Trim().ToLowerInvariant())
        {
            case "1" or "true" or "t" or "yes" or "y" or "on":
                return true;
            case "0" or "false" or "f" or "no" or "n" or "off":
                return false;
            default:
                errors.Query(name, "Input should be a valid boolean, unable to interpret input", "bool_parsing");
                return null;
        }
    }
}

/// <summary>Endpoint metadata listing the query parameters an endpoint reads, for the OpenAPI document.</summary>
internal sealed record QueryParametersMetadata(IReadOnlyList<QueryParameter> Parameters);

internal static class QueryParameterEndpointExtensions
{
    public static RouteHandlerBuilder WithQuery(this RouteHandlerBuilder builder, params QueryParameter[] parameters) =>
        builder.WithMetadata(new QueryParametersMetadata(parameters));
}
