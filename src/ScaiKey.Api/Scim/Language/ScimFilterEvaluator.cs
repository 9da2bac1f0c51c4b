using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// Runs a filter in memory against a resource's SCIM representation (RFC 7644 §3.4.2.2): attribute names match
/// case-insensitively; strings compare by the attribute's caseExact; dateTime attributes compare as instants; gt/ge/
/// lt/le on strings are ordinal; a multi-valued attribute matches when any of its values does, and a complex
/// multi-valued attribute without a sub-attribute is compared by its "value". "ne" is the negation of "eq", so an
/// absent attribute is "ne" anything. PATCH uses the same rules for value filters such as <c>members[value eq "x"]</c>.
/// </summary>
internal static class ScimFilterEvaluator
{
    /// <summary>Whether a resource's SCIM representation (as GET renders it) matches a filter, in memory.</summary>
    public static bool Matches(ScimFilter filter, JsonObject resource, ScimResourceType type) =>
        Evaluate(filter, path => LookupInResource(resource, type, path));

    /// <summary>Whether one element of a multi-valued attribute matches a value filter (the part inside [...]).</summary>
    public static bool MatchesElement(ScimFilter filter, JsonObject element, ScimAttribute? parent) =>
        Evaluate(filter, path => LookupInElement(element, parent, path));

    /// <summary>
    /// Refuses what RFC 7644 §3.4.2.2 says SHALL fail with invalidFilter: gt/ge/lt/le on boolean or binary attributes,
    /// and co/sw/ew/gt/ge/lt/le with null or boolean values. Unknown attributes pass (they match nothing).
    /// </summary>
    public static bool TryValidate(ScimFilter filter, ScimResourceType type, out ScimError? error)
    {
        error = Validate(filter, path => type.ResolveWithSub(path) is { } found ? found.Sub ?? found.Attribute : null);
        return error is null;
    }

    private static ScimError? Validate(ScimFilter filter, Func<ScimAttrPath, ScimAttribute?> resolve)
    {
        switch (filter)
        {
            case ScimAnd both:
                return Validate(both.Left, resolve) ?? Validate(both.Right, resolve);
            case ScimOr either:
                return Validate(either.Left, resolve) ?? Validate(either.Right, resolve);
            case ScimNot negated:
                return Validate(negated.Inner, resolve);
            case ScimValuePath valuePath:
                var parent = resolve(valuePath.Path);
                return Validate(valuePath.Filter, p => parent?.Sub(p.Attribute));
            case ScimCompare compare when compare.Op is not (ScimCompareOp.Eq or ScimCompareOp.Ne):
                var attribute = resolve(compare.Path);
                if (attribute?.Type is ScimAttributeType.Boolean or ScimAttributeType.Binary && compare.Op is ScimCompareOp.Gt or ScimCompareOp.Ge or ScimCompareOp.Lt or ScimCompareOp.Le)
                {
                    return ScimError.InvalidFilter($"'{compare.Op.ToString().ToLowerInvariant()}' cannot compare the {attribute.Type.ToString().ToLowerInvariant()} attribute '{compare.Path.Attribute}'.");
                }

                if (compare.Value is null || ScimJson.AsBoolean(compare.Value) is not null)
                {
                    return ScimError.InvalidFilter($"'{compare.Op.ToString().ToLowerInvariant()}' needs a string, number or date value for '{compare.Path.Attribute}'.");
                }

                return null;
            default:
                return null;
        }
    }

    // A found attribute: its descriptor (null when the schema does not define it) and its value in the representation.
    private readonly record struct Found(ScimAttribute? Attribute, JsonNode? Node);

    private static bool Evaluate(ScimFilter filter, Func<ScimAttrPath, Found> lookup) => filter switch
    {
        ScimAnd both => Evaluate(both.Left, lookup) && Evaluate(both.Right, lookup),
        ScimOr either => Evaluate(either.Left, lookup) || Evaluate(either.Right, lookup),
        ScimNot negated => !Evaluate(negated.Inner, lookup),
        ScimPresent present => Candidates(lookup(present.Path), present.Path.SubAttribute, forPresence: true).Any(c => ScimJson.IsPresent(c.Node)),
        ScimCompare compare => Compare(compare, lookup(compare.Path)),
        ScimValuePath valuePath => AnyElement(valuePath, lookup(valuePath.Path)),
        _ => false,
    };

    private static bool AnyElement(ScimValuePath valuePath, Found found) =>
        Elements(found.Node).Any(element => MatchesElement(valuePath.Filter, element, found.Attribute));

    internal static IEnumerable<JsonObject> Elements(JsonNode? node) => node switch
    {
        JsonArray array => array.OfType<JsonObject>(),
        JsonObject obj => [obj],
        _ => [],
    };

    private static Found LookupInResource(JsonObject resource, ScimResourceType type, ScimAttrPath path)
    {
        var container = resource;
        if (path.Schema is not null && !string.Equals(path.Schema, type.Schema.Id, StringComparison.OrdinalIgnoreCase))
        {
            if (ScimJson.Get(resource, path.Schema) is not JsonObject extension)
            {
                return new Found(type.Resolve(path with { SubAttribute = null }), null);
            }

            container = extension;
        }

        return new Found(type.Resolve(path with { SubAttribute = null }), ScimJson.Get(container, path.Attribute));
    }

    private static Found LookupInElement(JsonObject element, ScimAttribute? parent, ScimAttrPath path)
    {
        // Inside [...] names are the parent's sub-attributes; a deeper name (type.x) has nothing to match.
        if (path.SubAttribute is not null)
        {
            return new Found(null, null);
        }

        return new Found(parent?.Sub(path.Attribute), ScimJson.Get(element, path.Attribute));
    }

    /// <summary>The values a comparison looks at, each with its descriptor, multi-valued attributes flattened.</summary>
    private static IEnumerable<Found> Candidates(Found found, string? subAttribute, bool forPresence = false)
    {
        var attribute = found.Attribute;
        var node = found.Node;
        if (subAttribute is not null)
        {
            var sub = attribute?.Sub(subAttribute);
            foreach (var element in Elements(node))
            {
                foreach (var value in Flatten(ScimJson.Get(element, subAttribute)))
                {
                    yield return new Found(sub, value);
                }
            }

            yield break;
        }

        if (forPresence)
        {
            yield return found;
            yield break;
        }

        foreach (var value in Flatten(node))
        {
            // "emails co x" compares each email's value (RFC 7644 §3.4.2.2, complex multi-valued attributes).
            if (value is JsonObject element)
            {
                if (ScimJson.Get(element, "value") is { } inner)
                {
                    yield return new Found(attribute?.Sub("value"), inner);
                }
            }
            else
            {
                yield return new Found(attribute, value);
            }
        }
    }

    private static IEnumerable<JsonNode?> Flatten(JsonNode? node) => node switch
    {
        JsonArray array => array,
        null => Array.Empty<JsonNode?>(),
        _ => new[] { node },
    };

    private static bool Compare(ScimCompare compare, Found found)
    {
        if (compare.Op == ScimCompareOp.Ne)
        {
            return !Compare(compare with { Op = ScimCompareOp.Eq }, found);
        }

        var candidates = Candidates(found, compare.Path.SubAttribute).Where(c => ScimJson.IsPresent(c.Node)).ToList();

        if (compare.Value is null)
        {
            // "eq null" asks for an unassigned attribute (RFC 7643 §2.5: null and unassigned are the same state).
            return compare.Op == ScimCompareOp.Eq && candidates.Count == 0;
        }

        return candidates.Any(c => CompareValue(c.Node!, c.Attribute, compare.Op, compare.Value));
    }

    private static bool CompareValue(JsonNode actual, ScimAttribute? attribute, ScimCompareOp op, JsonValue literal)
    {
        if (ScimJson.AsString(literal) is { } text)
        {
            if (ScimJson.AsString(actual) is not { } value)
            {
                // A boolean attribute sent as the string "True" still compares as the boolean it means.
                return attribute?.Type == ScimAttributeType.Boolean && ScimJson.AsBoolean(actual) is { } flag
                    && bool.TryParse(text, out var wanted) && op == ScimCompareOp.Eq && flag == wanted;
            }

            if (attribute?.Type == ScimAttributeType.DateTime && ScimJson.AsDateTime(value) is { } at && ScimJson.AsDateTime(text) is { } when)
            {
                return Ordered(at.CompareTo(when), op);
            }

            var caseExact = attribute?.CaseExact ?? false;
            if (!caseExact)
            {
                value = ScimJson.Fold(value);
                text = ScimJson.Fold(text);
            }

            return op switch
            {
                ScimCompareOp.Eq => string.Equals(value, text, StringComparison.Ordinal),
                ScimCompareOp.Co => value.Contains(text, StringComparison.Ordinal),
                ScimCompareOp.Sw => value.StartsWith(text, StringComparison.Ordinal),
                ScimCompareOp.Ew => value.EndsWith(text, StringComparison.Ordinal),
                _ => Ordered(string.CompareOrdinal(value, text), op),
            };
        }

        if (ScimJson.AsBoolean(literal) is { } expected)
        {
            var flag = ScimJson.AsBoolean(actual)
                ?? (ScimJson.AsString(actual) is { } s && bool.TryParse(s, out var parsed) ? parsed : null);
            return op == ScimCompareOp.Eq && flag == expected;
        }

        if (ScimJson.AsDecimal(literal) is { } number && ScimJson.AsDecimal(actual) is { } actualNumber)
        {
            return op == ScimCompareOp.Eq ? actualNumber == number : Ordered(actualNumber.CompareTo(number), op);
        }

        return false;
    }

    private static bool Ordered(int order, ScimCompareOp op) => op switch
    {
        ScimCompareOp.Eq => order == 0,
        ScimCompareOp.Gt => order > 0,
        ScimCompareOp.Ge => order >= 0,
        ScimCompareOp.Lt => order < 0,
        ScimCompareOp.Le => order <= 0,
        _ => false,
    };
}
