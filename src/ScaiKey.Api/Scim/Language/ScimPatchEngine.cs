using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// Applies PATCH operations (RFC 7644 §3.5.2.1-3) to a working copy of a representation. An operation without a
/// path is split into one operation per attribute of its value (extension objects and Entra's dotted or
/// URN-qualified keys included), so both forms share one set of rules.
/// </summary>
internal sealed partial class ScimPatchEngine(JsonObject resource, ScimResourceType type)
{
    // Where an attribute lives: the object holding it, its key there and its descriptor. Known is false for
    // attributes of extensions the resource type does not declare (kept as given, see custom_attributes).
    private sealed record Target(JsonObject Container, string Key, ScimAttribute Attribute, bool Known, string? Extension);

    public bool TryApply(ScimPatchOperation operation, [NotNullWhen(false)] out ScimError? error)
    {
        var op = operation.Op.ToLowerInvariant();
        if (op is not ("add" or "replace" or "remove"))
        {
            error = ScimError.InvalidSyntax($"Unknown op '{operation.Op}'.");
            return false;
        }

        if (operation.Path is null)
        {
            if (op == "remove")
            {
                error = ScimError.NoTarget("\"remove\" needs a \"path\".");
                return false;
            }

            if (operation.Value is not JsonObject attributes)
            {
                error = ScimError.InvalidValue("Without a \"path\", \"value\" must be an object of attributes.");
                return false;
            }

            return TryApplyAttributes(op, null, attributes, out error);
        }

        return TryApplyPath(op, operation.Path, operation.Value, out error);
    }

    // The members of a path-less value: each key is an attribute path ("displayName", "name.givenName",
    // "urn:...:enterprise:2.0:User:department") or an extension URN holding an object of that schema's attributes.
    private bool TryApplyAttributes(string op, string? schema, JsonObject attributes, [NotNullWhen(false)] out ScimError? error)
    {
        foreach (var (key, value) in attributes.ToList())
        {
            if (schema is null && string.Equals(key, "schemas", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (schema is null && value is JsonObject nested && IsSchemaUrn(key))
            {
                if (!TryApplyAttributes(op, key, nested, out error))
                {
                    return false;
                }

                continue;
            }

            if (!ScimFilterParser.SplitAttrPath(key, out var attrPath))
            {
                error = ScimError.InvalidPath($"'{key}' is not an attribute name.");
                return false;
            }

            if (schema is not null)
            {
                attrPath = attrPath with { Schema = schema };
            }

            if (!TryApplyPath(op, new ScimPath(attrPath, null, null), value?.DeepClone(), out error))
            {
                return false;
            }
        }

        error = null;
        return true;
    }

    private bool IsSchemaUrn(string key) =>
        key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase)
        && (type.SchemaById(key) is not null || !ScimFilterParser.SplitAttrPath(key, out var path) || type.SchemaById(path.Schema!) is null);

    private bool TryApplyPath(string op, ScimPath path, JsonNode? value, [NotNullWhen(false)] out ScimError? error)
    {
        if (!TryTarget(path.Attribute, create: op != "remove", out var target, out error))
        {
            return false;
        }

        var attribute = target.Attribute;
        var current = ScimJson.Get(target.Container, target.Key);
        if (attribute.Mutability == ScimMutability.ReadOnly)
        {
            // A readOnly value sent back unchanged (Okta's group replace repeats the id) changes nothing.
            if (op != "remove" && path.ValueFilter is null && path.Attribute.SubAttribute is null && JsonNode.DeepEquals(current, value))
            {
                return true;
            }

            error = ScimError.Mutability($"'{attribute.Name}' is readOnly.");
            return false;
        }

        if (attribute.Mutability == ScimMutability.Immutable && ScimJson.IsPresent(current) && (op != "add" || !JsonNode.DeepEquals(current, value)))
        {
            error = ScimError.Mutability($"'{attribute.Name}' is immutable and already has a value.");
            return false;
        }

        if (path.ValueFilter is not null)
        {
            return TryApplyFiltered(op, target, path.ValueFilter, path.SubAttribute, value, out error);
        }

        if (path.Attribute.SubAttribute is { } subName)
        {
            return TryApplySub(op, target, subName, value, out error);
        }

        return TryApplyWhole(op, target, value, out error);
    }

    private bool TryTarget(ScimAttrPath path, bool create, [NotNullWhen(true)] out Target? target, [NotNullWhen(false)] out ScimError? error)
    {
        target = null;
        error = null;
        var schema = path.Schema;
        if (schema is null || string.Equals(schema, type.Schema.Id, StringComparison.OrdinalIgnoreCase))
        {
            if (type.Resolve(path with { Schema = null, SubAttribute = null }) is { } core)
            {
                target = new Target(resource, core.Name, core, true, null);
                return true;
            }

            error = ScimError.InvalidPath($"'{path.Attribute}' is not an attribute of {type.Name}.");
            return false;
        }

        // "urn:...:enterprise:2.0:User" as a whole: the extension object, its attributes as sub-attributes.
        var whole = schema + ":" + path.Attribute;
        if (type.SchemaById(whole) is { } wholeExtension)
        {
            var synthetic = new ScimAttribute(wholeExtension.Id, ScimAttributeType.Complex, SubAttributes: wholeExtension.Attributes);
            if (create)
            {
                DeclareSchema(wholeExtension.Id);
            }

            target = new Target(resource, wholeExtension.Id, synthetic, true, wholeExtension.Id);
            return true;
        }

        var extension = type.SchemaById(schema);
        ScimAttribute attribute;
        if (extension is not null)
        {
            if (extension.Attribute(path.Attribute) is not { } found)
            {
                error = ScimError.InvalidPath($"'{path.Attribute}' is not an attribute of {extension.Id}.");
                return false;
            }

            attribute = found;
        }
        else
        {
            // An extension ScaiKey does not model (Entra's custom extension attributes): kept as given.
            attribute = new ScimAttribute(path.Attribute, ScimAttributeType.String);
        }

        var urn = extension?.Id ?? schema;
        if (ScimJson.Get(resource, urn) is not JsonObject container)
        {
            container = new JsonObject();
            if (create)
            {
                resource[ScimJson.FindKey(resource, urn) ?? urn] = container;
                DeclareSchema(urn);
            }
        }

        target = new Target(container, attribute.Name, attribute, extension is not null, urn);
        return true;
    }

    private void DeclareSchema(string urn)
    {
        if (ScimJson.Get(resource, "schemas") is not JsonArray schemas)
        {
            schemas = [type.Schema.Id];
            resource["schemas"] = schemas;
        }

        if (!schemas.Any(s => string.Equals(ScimJson.AsString(s), urn, StringComparison.OrdinalIgnoreCase)))
        {
            schemas.Add(urn);
        }
    }

    // An extension object left empty by a remove goes, and its URN leaves "schemas" with it.
    private void DropEmptyExtension(Target target)
    {
        if (target.Extension is not { } urn || ScimJson.Get(resource, urn) is not JsonObject container || container.Count > 0)
        {
            return;
        }

        ScimJson.Remove(resource, urn);
        if (ScimJson.Get(resource, "schemas") is JsonArray schemas
            && schemas.FirstOrDefault(s => string.Equals(ScimJson.AsString(s), urn, StringComparison.OrdinalIgnoreCase)) is { } entry)
        {
            schemas.Remove(entry);
        }
    }

    private bool TryApplyWhole(string op, Target target, JsonNode? value, [NotNullWhen(false)] out ScimError? error)
    {
        error = null;
        var attribute = target.Attribute;
        var current = ScimJson.Get(target.Container, target.Key);
        if (op == "remove")
        {
            if (attribute.Required)
            {
                error = ScimError.InvalidValue($"'{attribute.Name}' is required and cannot be removed.");
                return false;
            }

            if (attribute.MultiValued && value is not null)
            {
                return TryRemoveValues(target, value, out error);
            }

            ScimJson.Remove(target.Container, target.Key);
            DropEmptyExtension(target);
            return true;
        }

        if (attribute.MultiValued || (!target.Known && current is JsonArray && op == "add"))
        {
            var items = value is JsonArray array ? array.Select(v => v?.DeepClone()).ToList() : [value?.DeepClone()];
            if (!TryCleanElements(attribute, items, out var clean, out error))
            {
                return false;
            }

            var list = op == "add" && current is JsonArray existing ? existing : new JsonArray();
            AppendNew(list, clean, attribute);
            SinglePrimary(list, clean);
            if (list.Parent is null)
            {
                ScimJson.Set(target.Container, target.Key, list);
            }

            return true;
        }

        if (attribute.Type == ScimAttributeType.Complex && target.Known)
        {
            // Entra sends the manager as its id alone; a complex value given as a string is its "value".
            if (value is JsonValue && attribute.Sub("value") is not null && ScimJson.AsString(value) is { } id)
            {
                value = new JsonObject { ["value"] = id };
            }

            if (value is not JsonObject subs)
            {
                error = ScimError.InvalidValue($"'{attribute.Name}' is complex: its value must be an object.");
                return false;
            }

            // RFC 7644 §3.5.2.1/3: the given sub-attributes are set, the others are left unchanged.
            foreach (var (key, sub) in subs.ToList())
            {
                if (!TryApplySub(op, target, key, sub?.DeepClone(), out error, quietReadOnly: true))
                {
                    return false;
                }
            }

            return true;
        }

        ScimJson.Set(target.Container, target.Key, value?.DeepClone());
        if (value is null)
        {
            DropEmptyExtension(target);
        }

        return true;
    }

    private bool TryApplySub(string op, Target target, string subName, JsonNode? value, [NotNullWhen(false)] out ScimError? error, bool quietReadOnly = false)
    {
        error = null;
        var attribute = target.Attribute;
        var sub = attribute.Sub(subName);
        if (target.Known && (attribute.Type != ScimAttributeType.Complex || sub is null))
        {
            error = ScimError.InvalidPath($"'{attribute.Name}' has no sub-attribute '{subName}'.");
            return false;
        }

        sub ??= new ScimAttribute(subName, ScimAttributeType.String);
        if (sub.Mutability == ScimMutability.ReadOnly)
        {
            if (quietReadOnly)
            {
                return true;
            }

            error = ScimError.Mutability($"'{attribute.Name}.{sub.Name}' is readOnly.");
            return false;
        }

        var current = ScimJson.Get(target.Container, target.Key);
        if (attribute.MultiValued)
        {
            var elements = ScimFilterEvaluator.Elements(current).ToList();
            if (elements.Count == 0 && op != "remove")
            {
                ScimJson.Set(target.Container, target.Key, new JsonArray(new JsonObject { [sub.Name] = value?.DeepClone() }));
                return true;
            }

            return TrySetOnElements(op, attribute, sub, elements, value, out error);
        }

        if (current is not JsonObject obj)
        {
            if (op == "remove")
            {
                return true;
            }

            obj = new JsonObject();
            target.Container[ScimJson.FindKey(target.Container, target.Key) ?? target.Key] = obj;
        }

        if (sub.Mutability == ScimMutability.Immutable && ScimJson.IsPresent(ScimJson.Get(obj, sub.Name)))
        {
            error = ScimError.Mutability($"'{attribute.Name}.{sub.Name}' is immutable and already has a value.");
            return false;
        }

        ScimJson.Set(obj, sub.Name, op == "remove" ? null : value?.DeepClone());
        if (obj.Count == 0)
        {
            ScimJson.Remove(target.Container, target.Key);
            DropEmptyExtension(target);
        }

        return true;
    }

    private static bool TrySetOnElements(string op, ScimAttribute attribute, ScimAttribute sub, List<JsonObject> elements, JsonNode? value,
        [NotNullWhen(false)] out ScimError? error)
    {
        error = null;
        if (sub.Mutability == ScimMutability.Immutable && elements.Any(e => ScimJson.IsPresent(ScimJson.Get(e, sub.Name))))
        {
            error = ScimError.Mutability($"'{attribute.Name}.{sub.Name}' is immutable.");
            return false;
        }

        foreach (var element in elements)
        {
            ScimJson.Set(element, sub.Name, op == "remove" ? null : value?.DeepClone());
        }

        if (op != "remove" && string.Equals(sub.Name, "primary", StringComparison.OrdinalIgnoreCase) && ScimJson.AsBoolean(value) == true && elements.Count > 0)
        {
            var parent = elements[0].Parent as JsonArray;
            if (parent is not null)
            {
                SinglePrimary(parent, elements.Cast<JsonNode?>().ToList());
            }
        }

        return true;
    }
}
