using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

// The multi-valued half of PATCH: value filters (emails[type eq "work"].value, members[value eq "x"]), duplicate
// detection for add, Entra's remove-by-value form, and the single "primary" rule.
internal sealed partial class ScimPatchEngine
{
    private bool TryApplyFiltered(string op, Target target, ScimFilter filter, string? subName, JsonNode? value, [NotNullWhen(false)] out ScimError? error)
    {
        error = null;
        var attribute = target.Attribute;
        var current = ScimJson.Get(target.Container, target.Key);
        if (target.Known && !attribute.MultiValued)
        {
            error = ScimError.InvalidPath($"'{attribute.Name}' is not multi-valued: it takes no value filter.");
            return false;
        }

        var elements = ScimFilterEvaluator.Elements(current).ToList();
        var matched = elements.Where(e => ScimFilterEvaluator.MatchesElement(filter, e, target.Known ? attribute : null)).ToList();
        ScimAttribute? sub = null;
        if (subName is not null)
        {
            sub = attribute.Sub(subName);
            if (sub is null && target.Known)
            {
                error = ScimError.InvalidPath($"'{attribute.Name}' has no sub-attribute '{subName}'.");
                return false;
            }

            sub ??= new ScimAttribute(subName, ScimAttributeType.String);
            if (sub.Mutability == ScimMutability.ReadOnly)
            {
                error = ScimError.Mutability($"'{attribute.Name}.{sub.Name}' is readOnly.");
                return false;
            }
        }

        if (matched.Count == 0)
        {
            // RFC 7644 §3.5.2.2/3: a filter that selects nothing is noTarget for remove and replace. For add, the
            // element the filter describes is created (Entra adds emails[type eq "work"].value to users without one).
            if (op != "add" || Equalities(filter) is not { } element)
            {
                error = ScimError.NoTarget($"No value of '{attribute.Name}' matches the filter.");
                return false;
            }

            if (sub is not null)
            {
                element[sub.Name] = value?.DeepClone();
            }
            else if (value is JsonObject given)
            {
                foreach (var (key, v) in given)
                {
                    element[ScimJson.FindKey(element, key) ?? key] = v?.DeepClone();
                }
            }
            else
            {
                error = ScimError.InvalidValue($"The value for '{attribute.Name}' must be an object.");
                return false;
            }

            if (current is JsonArray array)
            {
                array.Add(element);
            }
            else
            {
                ScimJson.Set(target.Container, target.Key, new JsonArray(element));
            }

            SinglePrimary(ScimJson.Get(target.Container, target.Key) as JsonArray, [element]);
            return true;
        }

        if (sub is not null)
        {
            return TrySetOnElements(op, attribute, sub, matched, value, out error);
        }

        if (op == "remove")
        {
            RemoveElements(target, matched);
            return true;
        }

        if (value is not JsonObject values)
        {
            error = ScimError.InvalidValue($"The value for '{attribute.Name}[...]' must be an object of sub-attributes.");
            return false;
        }

        foreach (var (key, v) in values)
        {
            var known = attribute.Sub(key);
            if (known is null && target.Known)
            {
                error = ScimError.InvalidPath($"'{attribute.Name}' has no sub-attribute '{key}'.");
                return false;
            }

            if (known?.Mutability == ScimMutability.ReadOnly)
            {
                continue;
            }

            if (!TrySetOnElements(op, attribute, known ?? new ScimAttribute(key, ScimAttributeType.String), matched, v, out error))
            {
                return false;
            }
        }

        return true;
    }

    // The element a filter of "eq" comparisons joined by "and" describes: emails[type eq "work"] → {"type":"work"}.
    private static JsonObject? Equalities(ScimFilter filter)
    {
        switch (filter)
        {
            case ScimCompare { Op: ScimCompareOp.Eq, Value: not null, Path.SubAttribute: null } compare:
                return new JsonObject { [compare.Path.Attribute] = compare.Value.DeepClone() };
            case ScimAnd both when Equalities(both.Left) is { } left && Equalities(both.Right) is { } right:
                foreach (var (key, value) in right.ToList())
                {
                    right.Remove(key);
                    left[key] = value;
                }

                return left;
            default:
                return null;
        }
    }

    private void RemoveElements(Target target, IReadOnlyCollection<JsonObject> elements)
    {
        if (ScimJson.Get(target.Container, target.Key) is not JsonArray array)
        {
            return;
        }

        foreach (var element in elements)
        {
            array.Remove(element);
        }

        if (array.Count == 0)
        {
            ScimJson.Remove(target.Container, target.Key);
            DropEmptyExtension(target);
        }
    }

    // Entra removes members as {"op":"Remove","path":"members","value":[{"value":"<id>"}]}: only the given values go.
    // Values that are not there are ignored, so a repeated removal is harmless.
    private bool TryRemoveValues(Target target, JsonNode value, [NotNullWhen(false)] out ScimError? error)
    {
        error = null;
        if (ScimJson.Get(target.Container, target.Key) is not JsonArray list)
        {
            return true;
        }

        var items = value is JsonArray array ? array.ToList() : [value];
        var caseExact = target.Attribute.Sub("value")?.CaseExact ?? false;
        var byValue = new HashSet<string>(StringComparer.Ordinal);
        var others = new List<JsonNode?>();
        foreach (var item in items)
        {
            if (item is JsonObject given && ScimJson.AsString(ScimJson.Get(given, "value")) is { } wanted)
            {
                byValue.Add(Key(wanted, caseExact));
            }
            else
            {
                others.Add(item);
            }
        }

        var doomed = list.Where(e =>
            (e is JsonObject element && ScimJson.AsString(ScimJson.Get(element, "value")) is { } v && byValue.Contains(Key(v, caseExact)))
            || others.Any(item => IsRemovalMatch(e, item, target.Attribute))).ToList();
        foreach (var element in doomed)
        {
            list.Remove(element);
        }

        if (list.Count == 0)
        {
            ScimJson.Remove(target.Container, target.Key);
            DropEmptyExtension(target);
        }

        return true;
    }

    private static string Key(string value, bool caseExact) => caseExact ? value : ScimJson.Fold(value);

    // Appends what is not there yet. Existing elements are indexed by value, since a group's membership PATCH carries
    // hundreds of members against a list that may hold thousands.
    private static void AppendNew(JsonArray list, IEnumerable<JsonNode?> items, ScimAttribute attribute)
    {
        var caseExact = attribute.Sub("value")?.CaseExact ?? attribute.CaseExact;
        var index = new Dictionary<string, List<JsonNode?>>(StringComparer.Ordinal);
        var unkeyed = new List<JsonNode?>();
        foreach (var element in list)
        {
            Bucket(element).Add(element);
        }

        foreach (var item in items)
        {
            var bucket = Bucket(item);
            if (!bucket.Any(existing => IsSameElement(existing, item, attribute)))
            {
                list.Add(item);
                bucket.Add(item);
            }
        }

        List<JsonNode?> Bucket(JsonNode? node)
        {
            var value = node is JsonObject obj ? ScimJson.AsString(ScimJson.Get(obj, "value")) : ScimJson.AsString(node);
            if (value is null)
            {
                return unkeyed;
            }

            var key = Key(value, caseExact);
            if (!index.TryGetValue(key, out var bucket))
            {
                bucket = [];
                index[key] = bucket;
            }

            return bucket;
        }
    }

    private static bool IsRemovalMatch(JsonNode? existing, JsonNode? item, ScimAttribute attribute)
    {
        if (existing is JsonObject element && item is JsonObject given && ScimJson.Get(given, "value") is { } wanted)
        {
            return ScimJson.ValuesEqual(ScimJson.Get(element, "value"), wanted, attribute.Sub("value")?.CaseExact ?? false);
        }

        return IsSameElement(existing, item, attribute);
    }

    /// <summary>
    /// Whether an element is already there: the same value (and type), or, for elements without a value, every
    /// sub-attribute the new one gives has the same value in the old one; plain values by equality.
    /// </summary>
    private static bool IsSameElement(JsonNode? existing, JsonNode? item, ScimAttribute attribute)
    {
        if (existing is JsonObject old && item is JsonObject given)
        {
            // Elements with a "value" are the same when value (and type, where both say one) agree: a member sent
            // again with its $ref is still the member that is there.
            if (ScimJson.Get(old, "value") is { } oldValue && ScimJson.Get(given, "value") is { } newValue)
            {
                return ScimJson.ValuesEqual(oldValue, newValue, attribute.Sub("value")?.CaseExact ?? false)
                    && (ScimJson.Get(old, "type") is not { } oldType || ScimJson.Get(given, "type") is not { } newType
                        || ScimJson.ValuesEqual(oldType, newType, caseExact: false));
            }

            return given.Where(p => ScimJson.IsPresent(p.Value)).All(p =>
                ScimJson.ValuesEqual(ScimJson.Get(old, p.Key), p.Value, attribute.Sub(p.Key)?.CaseExact ?? false));
        }

        return ScimJson.ValuesEqual(existing, item, attribute.CaseExact);
    }

    // Elements for a multi-valued attribute: objects for complex ones, readOnly sub-attributes (members' display)
    // dropped as RFC 7644 §3.5.1 has the server ignore them, nulls dropped.
    private static bool TryCleanElements(ScimAttribute attribute, List<JsonNode?> items, out List<JsonNode?> clean, [NotNullWhen(false)] out ScimError? error)
    {
        clean = [];
        error = null;
        foreach (var item in items)
        {
            if (item is null)
            {
                continue;
            }

            if (attribute.Type == ScimAttributeType.Complex && attribute.SubAttributes is { } subs)
            {
                if (item is not JsonObject element)
                {
                    error = ScimError.InvalidValue($"The values of '{attribute.Name}' must be objects.");
                    return false;
                }

                foreach (var (key, _) in element.ToList())
                {
                    if (subs.FirstOrDefault(s => string.Equals(s.Name, key, StringComparison.OrdinalIgnoreCase)) is { Mutability: ScimMutability.ReadOnly })
                    {
                        element.Remove(key);
                    }
                }
            }

            clean.Add(item);
        }

        return true;
    }

    // RFC 7644 §3.5.2: a value set "primary": true makes every other value of the attribute primary false.
    private static void SinglePrimary(JsonArray? list, IReadOnlyCollection<JsonNode?> changed)
    {
        if (list is null || !changed.Any(c => c is JsonObject o && ScimJson.AsBoolean(ScimJson.Get(o, "primary")) == true))
        {
            return;
        }

        foreach (var element in list.OfType<JsonObject>())
        {
            if (!changed.Contains(element) && ScimJson.AsBoolean(ScimJson.Get(element, "primary")) == true)
            {
                element[ScimJson.FindKey(element, "primary")!] = false;
            }
        }
    }
}
