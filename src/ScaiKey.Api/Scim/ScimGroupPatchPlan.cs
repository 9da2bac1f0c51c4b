using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScaiKey.Api.Http;
using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Scim;

/// <summary>
/// Group PATCHes that can be applied without the group's representation: the shapes Entra ID and Okta send
/// (Microsoft Learn, "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID", group
/// operations; Okta, "SCIM 2.0 protocol reference", update group memberships):
/// add "members" [{value}...]; remove "members[value eq "id"]"; remove "members" with [{value}...] (Entra) or
/// without a value (all); replace "members" [{value}...]; replace displayName / externalId, with or without path.
/// Anything else goes through the generic PATCH engine on the rendered group.
/// </summary>
internal static class ScimGroupPatchPlan
{
    // As ScimGroupMapping.Read allows (the columns hold 200).
    private const int MaxText = 200;

    internal abstract record Step;

    internal sealed record Rename(string? DisplayName, Optional<string> ExternalId) : Step;

    internal sealed record Members(List<string> Add, List<string> Remove, bool RemoveAll, List<string>? ReplaceWith) : Step;

    public static bool TryPlan(IReadOnlyList<ScimPatchOperation> operations, [NotNullWhen(true)] out List<Step>? plan)
    {
        plan = [];
        foreach (var op in operations)
        {
            if (!TryStep(op, out var step))
            {
                plan = null;
                return false;
            }

            plan.Add(step);
        }

        return true;
    }

    private static bool TryStep(ScimPatchOperation op, [NotNullWhen(true)] out Step? step)
    {
        step = null;
        var path = op.Path;
        if (path is null)
        {
            // {"op":"replace","value":{"displayName":"x","externalId":"y"}} (Okta and Entra both send this form).
            if (op.Op != "replace" || op.Value is not JsonObject value || value.Count == 0
                || value.Any(p => !Is(p.Key, "displayName") && !Is(p.Key, "externalId") && !Is(p.Key, "id")))
            {
                return false;
            }

            var name = ScimJson.Get(value, "displayName");
            var external = ScimJson.Get(value, "externalId");
            // Anything the mapping would refuse (too long, blank) goes the generic way, which says why.
            if (!ScimJson.TryString(name, out var n) || !ScimJson.TryString(external, out var e) || (ScimJson.Has(value, "displayName") && string.IsNullOrWhiteSpace(n))
                || n?.Length > MaxText || e?.Length > MaxText)
            {
                return false;
            }

            step = new Rename(n?.Trim(), ScimJson.Has(value, "externalId") ? new Optional<string>(true, e) : default);
            return true;
        }

        if (path.Attribute.Schema is not null && !Is(path.Attribute.Schema, ScimSchemas.Group))
        {
            return false;
        }

        var attribute = path.Attribute.Attribute;
        if (path.ValueFilter is null && path.SubAttribute is null && path.Attribute.SubAttribute is null
            && op.Op == "replace" && (Is(attribute, "displayName") || Is(attribute, "externalId")))
        {
            if (!ScimJson.TryString(op.Value, out var text) || (Is(attribute, "displayName") && string.IsNullOrWhiteSpace(text)) || text?.Length > MaxText)
            {
                return false;
            }

            step = Is(attribute, "displayName") ? new Rename(text!.Trim(), default) : new Rename(null, new Optional<string>(true, text));
            return true;
        }

        if (!Is(attribute, "members") || path.Attribute.SubAttribute is not null || path.SubAttribute is not null)
        {
            return false;
        }

        if (path.ValueFilter is not null)
        {
            // remove members[value eq "id"]
            if (op.Op != "remove" || path.ValueFilter is not ScimCompare { Op: ScimCompareOp.Eq } compare
                || !Is(compare.Path.Attribute, "value") || compare.Path.SubAttribute is not null
                || compare.Value is not { } literal || literal.GetValueKind() != JsonValueKind.String)
            {
                return false;
            }

            step = new Members([], [literal.GetValue<string>()], false, null);
            return true;
        }

        List<string> ids = [];
        if (op.Value is not null && !ScimGroupMapping.TryMemberIds(op.Value, out ids, out _))
        {
            return false;
        }

        step = op.Op switch
        {
            "add" when op.Value is not null => new Members(ids, [], false, null),
            "remove" when op.Value is null => new Members([], [], true, null),
            "remove" => new Members([], ids, false, null),
            "replace" => new Members([], [], false, ids),
            _ => null,
        };
        return step is not null;
    }

    private static bool Is(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
