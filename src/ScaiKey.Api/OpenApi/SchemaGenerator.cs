using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ScaiKey.Api.Http;

namespace ScaiKey.Api.OpenApi;

/// <summary>
/// Turns the API's records into JSON schemas the way the reference (a FastAPI/pydantic service) spells them:
/// nullable as anyOf [X, null], generics as ApiResponse_UserResponse_, defaults and descriptions kept.
/// </summary>
internal sealed class SchemaGenerator
{
    private readonly NullabilityInfoContext _nullability = new();

    public SortedDictionary<string, JsonObject> Components { get; } = new(StringComparer.Ordinal);

    public JsonObject Reference(Type type)
    {
        var name = SchemaName(type);
        if (!Components.ContainsKey(name))
        {
            Components[name] = new JsonObject(); // placeholder stops recursion
            Components[name] = type.IsEnum ? EnumSchema(type) : ObjectSchema(type);
        }

        return new JsonObject { ["$ref"] = "#/components/schemas/" + name };
    }

    public static string SchemaName(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.Name;
        }

        var baseName = type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)];
        return baseName + "_" + string.Join("_", type.GetGenericArguments().Select(ArgumentName)) + "_";
    }

    private static string ArgumentName(Type type) =>
        ElementType(type) is { } element ? "list_" + SchemaName(element) + "_" : SchemaName(type);

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable is not null && !typeof(JsonNode).IsAssignableFrom(type) && !IsDictionary(type)
            ? enumerable.GetGenericArguments()[0]
            : null;
    }

    private static bool IsDictionary(Type type) =>
        type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));

    private static JsonObject EnumSchema(Type type)
    {
        var schema = new JsonObject();
        if (type.GetCustomAttribute<DescriptionAttribute>() is { } description)
        {
            schema["description"] = description.Description;
        }

        schema["type"] = "string";
        schema["enum"] = new JsonArray(Enum.GetNames(type)
            .Select(n => (JsonNode)JsonNamingPolicy.SnakeCaseUpper.ConvertName(n)!).ToArray());
        return schema;
    }

    private JsonObject ObjectSchema(Type type)
    {
        var schema = new JsonObject();
        if (type.GetCustomAttribute<DescriptionAttribute>() is { Description.Length: > 0 } description)
        {
            schema["description"] = description.Description;
        }

        schema["type"] = "object";
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var property in OrderedProperties(type))
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? ApiJson.WireName(property.Name);
            var nullable = IsNullable(property);
            var propertySchema = TypeSchema(property.PropertyType, property);
            if (nullable)
            {
                propertySchema = new JsonObject { ["anyOf"] = new JsonArray(propertySchema, new JsonObject { ["type"] = "null" }) };
            }

            if (property.GetCustomAttribute<DescriptionAttribute>() is { } propertyDescription)
            {
                propertySchema["description"] = propertyDescription.Description;
            }

            var defaultValue = property.GetCustomAttribute<ApiDefaultAttribute>();
            if (defaultValue is not null)
            {
                propertySchema["default"] = JsonSerializer.SerializeToNode(defaultValue.Value);
            }

            properties[name] = propertySchema;
            if (!nullable && defaultValue is null && property.GetCustomAttribute<ApiOptionalAttribute>() is null)
            {
                required.Add(name);
            }
        }

        schema["properties"] = properties;
        if (required.Count > 0)
        {
            schema["required"] = required;
        }

        return schema;
    }

    private static IEnumerable<PropertyInfo> OrderedProperties(Type type)
    {
        var chain = new List<Type>();
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            chain.Insert(0, t);
        }

        return chain.SelectMany(t => t
            .GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always }
                && p.Name != "EqualityContract" && p.GetIndexParameters().Length == 0)
            .OrderBy(p => p.MetadataToken));
    }

    private bool IsNullable(PropertyInfo property)
    {
        if (property.PropertyType.IsValueType)
        {
            return Nullable.GetUnderlyingType(property.PropertyType) is not null;
        }

        // A generic argument (ApiResponse<T>.Data) reads as "maybe null" through reflection; the constructed
        // type decides, and our envelopes never carry a null payload.
        var declared = property.DeclaringType is { IsGenericType: true } d
            ? d.GetGenericTypeDefinition().GetProperty(property.Name)?.PropertyType
            : null;
        if (declared is { IsGenericParameter: true })
        {
            return false;
        }

        return _nullability.Create(property).ReadState == NullabilityState.Nullable;
    }

    private JsonObject TypeSchema(Type type, PropertyInfo? property)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var format = property?.GetCustomAttribute<ApiFormatAttribute>()?.Format;
        if (type == typeof(string))
        {
            return format is null ? new JsonObject { ["type"] = "string" } : new JsonObject { ["type"] = "string", ["format"] = format };
        }

        if (type == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return new JsonObject { ["type"] = "integer" };
        }

        if (type == typeof(double) || type == typeof(decimal))
        {
            return new JsonObject { ["type"] = "number" };
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        }

        if (type == typeof(object))
        {
            return new JsonObject();
        }

        if (type.IsEnum)
        {
            return Reference(type);
        }

        if (typeof(JsonObject).IsAssignableFrom(type) || type == typeof(JsonElement) || IsDictionary(type))
        {
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = true };
        }

        if (ElementType(type) is { } element)
        {
            var items = element == typeof(object) && property?.GetCustomAttribute<ApiItemTypesAttribute>() is { } itemTypes
                ? new JsonObject { ["anyOf"] = new JsonArray(itemTypes.Types.Select(t => (JsonNode)new JsonObject { ["type"] = t }).ToArray()) }
                : TypeSchema(element, null);
            return new JsonObject { ["type"] = "array", ["items"] = items };
        }

        return Reference(type);
    }
}

/// <summary>Item types of a heterogeneous list, such as a validation error's loc (strings and integers).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class ApiItemTypesAttribute(params string[] types) : Attribute
{
    public IReadOnlyList<string> Types { get; } = types;
}
