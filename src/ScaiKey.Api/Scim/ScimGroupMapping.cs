using System.Globalization;
using System.Text.Json.Nodes;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Scim;

/// <summary>A member of a group as SCIM shows it: a user (a membership row) or a group (nested below it).</summary>
internal sealed record ScimMember(string Id, string Type, string? Display);

/// <summary>A group body read: displayName, externalId and, when members was sent, the member ids.</summary>
internal sealed record ScimGroupFields(string DisplayName, string? ExternalId, IReadOnlyList<string>? Members);

/// <summary>SCIM Group (RFC 7643 §4.2) onto a ScaiKey group and back.</summary>
internal static class ScimGroupMapping
{
    public static JsonObject Render(Group group, IReadOnlyList<ScimMember>? members, string baseUrl)
    {
        var resource = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.Group),
            ["id"] = group.Id,
        };
        if (group.ExternalId is not null)
        {
            resource["externalId"] = group.ExternalId;
        }

        resource["displayName"] = group.Name;
        if (members is not null)
        {
            resource["members"] = new JsonArray(members.Select(m => (JsonNode)new JsonObject
            {
                ["value"] = m.Id,
                ["type"] = m.Type,
                ["display"] = m.Display,
                ["$ref"] = $"{baseUrl}/{(m.Type == "Group" ? "Groups" : "Users")}/{m.Id}",
            }).ToArray());
        }

        resource["meta"] = new JsonObject
        {
            ["resourceType"] = "Group",
            ["created"] = ScimResults.Timestamp(group.CreatedAt),
            ["lastModified"] = ScimResults.Timestamp(group.UpdatedAt ?? group.CreatedAt),
            ["location"] = $"{baseUrl}/Groups/{group.Id}",
            ["version"] = ScimResults.WeakETag(Version(group)),
        };
        return resource;
    }

    /// <summary>Groups have no version column: their last change, in microseconds (what both databases keep), is it.</summary>
    public static string Version(Group group) =>
        ((group.UpdatedAt ?? group.CreatedAt).Ticks / 10).ToString(CultureInfo.InvariantCulture);

    /// <summary>A time both databases store exactly, so a version read back equals the one handed out.</summary>
    public static DateTime Microseconds(DateTime value) => new(value.Ticks - (value.Ticks % 10), DateTimeKind.Utc);

    public static ScimGroupFields? Read(JsonObject body, out ScimError? error)
    {
        error = null;
        if (!ScimJson.TryString(ScimJson.Get(body, "displayName"), out var name) || string.IsNullOrWhiteSpace(name) || name.Trim().Length > 200)
        {
            error = ScimError.InvalidValue("displayName is required: a non-empty string of at most 200 characters.");
            return null;
        }

        if (!ScimJson.TryString(ScimJson.Get(body, "externalId"), out var externalId) || externalId?.Length > 200)
        {
            error = ScimError.InvalidValue("externalId must be a string of at most 200 characters.");
            return null;
        }

        List<string>? members = null;
        if (ScimJson.Get(body, "members") is { } node)
        {
            if (!TryMemberIds(node, out members, out error))
            {
                return null;
            }
        }

        return new ScimGroupFields(name.Trim(), externalId, members);
    }

    /// <summary>[{"value": "id"}, ...] (a single object too, as some clients send for one member).</summary>
    public static bool TryMemberIds(JsonNode? node, out List<string> ids, out ScimError? error)
    {
        ids = [];
        error = null;
        var items = node switch
        {
            JsonArray array => array.ToList(),
            JsonObject one => [one],
            null => [],
            _ => null,
        };
        if (items is null)
        {
            error = ScimError.InvalidValue("members must be an array of objects with a value.");
            return false;
        }

        foreach (var item in items)
        {
            if (item is not JsonObject member || !ScimJson.TryString(ScimJson.Get(member, "value"), out var value) || string.IsNullOrWhiteSpace(value) || value.Length > 64)
            {
                error = ScimError.InvalidValue("Each member needs a value: the id of a user or group of this tenant.");
                return false;
            }

            ids.Add(value);
        }

        ids = ids.Distinct(StringComparer.Ordinal).ToList();
        return true;
    }
}
