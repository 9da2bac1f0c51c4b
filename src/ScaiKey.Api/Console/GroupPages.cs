using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>The groups page group's reading pages: the tree, one group with its members and nested groups, and the confirmations.</summary>
internal static class GroupPages
{
    private const int MembersPerPage = 50;

    public static void Map(IEndpointRouteBuilder console)
    {
        const string group = "/tenants/{tenantId}/groups/{groupId}";
        console.MapGet("/tenants/{tenantId}/groups", (HttpContext http, string tenantId, string? notice, [FromServices] ConsoleApi api, CancellationToken ct) =>
            TreePageAsync(http, api, tenantId, Notice(notice), null, null, null, StatusCodes.Status200OK, ct));
        console.MapGet(group, (HttpContext http, string tenantId, string groupId, string? notice, int? page, [FromServices] ConsoleApi api, CancellationToken ct) =>
            GroupPageAsync(http, api, tenantId, groupId, page ?? 1, Notice(notice), null, null, null, StatusCodes.Status200OK, ct));
        console.MapGet(group + "/confirm-delete", ConfirmDeleteAsync);
        console.MapGet(group + "/members/{userId}/confirm-remove", ConfirmRemoveMemberAsync);
        console.MapGet(group + "/nested/{childId}/confirm-remove", ConfirmRemoveNestedAsync);
    }

    public static string TreePath(string tenantId) => DirectoryPages.ConsoleTenantPath(tenantId) + "/groups";

    public static string GroupPath(string tenantId, string groupId) => $"{TreePath(tenantId)}/{Uri.EscapeDataString(groupId)}";

    public static string ApiGroups(string tenantId) => DirectoryPages.ApiTenantPath(tenantId) + "/groups";

    public static string ApiGroup(string tenantId, string groupId) => $"{ApiGroups(tenantId)}/{Uri.EscapeDataString(groupId)}";

    public static async Task<IResult> TreePageAsync(
        HttpContext http, ConsoleApi api, string tenantId, string? notice, string? error, IReadOnlyDictionary<string, string>? fieldErrors,
        IReadOnlyDictionary<string, string?>? posted, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var access = DirectoryPages.AccessAsync(api, token, tenantId, ct);
        var (items, result) = await DirectoryPages.ReadAllAsync(api, token, ApiGroups(tenantId), ct);
        if (!result.IsSuccess)
        {
            return UserPages.Refused(http, result);
        }

        return ConsolePages.Render<GroupsPage>(http, new()
        {
            ["Access"] = await access, ["Tree"] = DirectoryPages.Tree(items, "parent_group_id", id => GroupPath(tenantId, id)),
            ["Parents"] = Choices(items, "(no group: top level)", []), ["Notice"] = notice, ["Error"] = error,
            ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(), ["Posted"] = posted,
        }, status);
    }

    public static async Task<IResult> GroupPageAsync(
        HttpContext http, ConsoleApi api, string tenantId, string groupId, int page, string? notice, string? error,
        IReadOnlyDictionary<string, string>? fieldErrors, IReadOnlyDictionary<string, string?>? posted, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var access = DirectoryPages.AccessAsync(api, token, tenantId, ct);
        var reading = api.GetAsync(token, ApiGroup(tenantId, groupId), ct);
        var members = api.GetAsync(token, $"{ApiGroup(tenantId, groupId)}/members?per_page={MembersPerPage}&page={Math.Max(1, page)}", ct);
        var (all, _) = await DirectoryPages.ReadAllAsync(api, token, ApiGroups(tenantId), ct);
        var group = await reading;
        if (!group.IsSuccess || group.Data is not { } data)
        {
            return UserPages.Refused(http, group);
        }

        var memberList = await members;
        var nested = all.Where(g => g["parent_group_id"]?.ToString() == groupId).OrderBy(g => g["name"]?.ToString(), StringComparer.OrdinalIgnoreCase).ToList();

        // Not offered for nesting here: the group itself, the groups it is nested in (a loop; the API refuses it
        // anyway) and those already nested directly.
        var excluded = Ancestors(all, groupId);
        excluded.UnionWith(nested.Select(g => g["id"]?.ToString() ?? string.Empty));
        var parentId = data["parent_group_id"]?.ToString();
        return ConsolePages.Render<GroupPage>(http, new()
        {
            ["Access"] = await access, ["Group"] = data, ["Parent"] = all.FirstOrDefault(g => parentId is not null && g["id"]?.ToString() == parentId),
            ["Members"] = UserPages.Items(memberList.Data), ["MemberPaging"] = Paging.From(memberList.Json?["pagination"]),
            ["Nested"] = nested, ["Nestable"] = Choices(all, "Choose a group", excluded),
            ["Notice"] = notice, ["Error"] = error ?? (memberList.IsSuccess ? null : memberList.Message),
            ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(), ["Posted"] = posted,
        }, status);
    }

    /// <summary>The group and every group it is nested in.</summary>
    private static HashSet<string> Ancestors(IReadOnlyList<JsonNode> all, string groupId)
    {
        var parentOf = all.ToDictionary(g => g["id"]?.ToString() ?? string.Empty, g => g["parent_group_id"]?.ToString(), StringComparer.Ordinal);
        var result = new HashSet<string>(StringComparer.Ordinal);
        for (string? current = groupId; current is not null && result.Add(current); current = parentOf.GetValueOrDefault(current))
        {
        }

        return result;
    }

    private static IReadOnlyList<Choice> Choices(IReadOnlyList<JsonNode> groups, string none, HashSet<string> exclude) =>
        [new(string.Empty, none), .. groups.Where(g => !exclude.Contains(g["id"]?.ToString() ?? string.Empty))
            .Select(g => new Choice(g["id"]?.ToString() ?? string.Empty, g["name"]?.ToString() ?? string.Empty))];

    private static async Task<IResult> ConfirmDeleteAsync(HttpContext http, string tenantId, string groupId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var group = await api.GetAsync(http.Admin().AccessToken, ApiGroup(tenantId, groupId), ct);
        if (!group.IsSuccess || group.Data?["name"]?.ToString() is not { } name)
        {
            return UserPages.Refused(http, group);
        }

        return Confirm(http, $"Delete the group {name}?",
            $"The group {name} is deleted with all its memberships: its members stay, but lose what the group gave them (application assignments through it included). A group with nested groups cannot be deleted: take them out first.",
            "Delete group", GroupPath(tenantId, groupId) + "/delete", GroupPath(tenantId, groupId));
    }

    private static async Task<IResult> ConfirmRemoveMemberAsync(HttpContext http, string tenantId, string groupId, string userId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var group = api.GetAsync(token, ApiGroup(tenantId, groupId), ct);
        var user = await api.GetAsync(token, UserPages.ApiUserPath(tenantId, userId), ct);
        var name = (await group).Data?["name"]?.ToString();
        if (name is null || user.Data?["email"]?.ToString() is not { } email)
        {
            return UserPages.Refused(http, name is null ? await group : user);
        }

        return Confirm(http, $"Remove {email} from {name}?",
            $"{email} is no longer a direct member of {name}, and of the groups {name} is nested in unless a nested group still holds them. The account itself is not changed.",
            "Remove member", $"{GroupPath(tenantId, groupId)}/members/{Uri.EscapeDataString(userId)}/remove", GroupPath(tenantId, groupId));
    }

    private static async Task<IResult> ConfirmRemoveNestedAsync(HttpContext http, string tenantId, string groupId, string childId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var group = api.GetAsync(token, ApiGroup(tenantId, groupId), ct);
        var child = await api.GetAsync(token, ApiGroup(tenantId, childId), ct);
        var name = (await group).Data?["name"]?.ToString();
        if (name is null || child.Data?["name"]?.ToString() is not { } childName)
        {
            return UserPages.Refused(http, name is null ? await group : child);
        }

        return Confirm(http, $"Take {childName} out of {name}?",
            $"{childName} moves to the top level: its members stop being inherited members of {name} and of the groups above it. {childName} and its own members are kept.",
            "Take out", $"{GroupPath(tenantId, groupId)}/nested/{Uri.EscapeDataString(childId)}/remove", GroupPath(tenantId, groupId));
    }

    public static IResult Confirm(HttpContext http, string heading, string text, string button, string action, string back) =>
        ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = heading, ["Explanation"] = text, ["ButtonText"] = button, ["Action"] = action, ["BackHref"] = back,
        });

    private static string? Notice(string? code) => code switch
    {
        "created" => "The group was created.",
        "saved" => "The group was saved.",
        "member-added" => "The member was added.",
        "member-already" => "That user is already a direct member.",
        "member-removed" => "The member was removed.",
        "nested" => "The group is now nested in this one.",
        "unnested" => "The group was taken out; it is now at the top level.",
        "deleted" => "The group was deleted.",
        _ => null,
    };
}
