using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The groups page group's changes, each one API call with the admin's token: create, rename, add and remove a
/// member (found by email through the users search), nest and take out a group (its parent_group_id), delete.
/// </summary>
internal static class GroupActions
{
    public static void Map(IEndpointRouteBuilder console)
    {
        const string group = "/tenants/{tenantId}/groups/{groupId}";
        console.MapPost("/tenants/{tenantId}/groups", CreateAsync);
        console.MapPost(group + "/rename", RenameAsync);
        console.MapPost(group + "/members", AddMemberAsync);
        console.MapPost(group + "/members/{userId}/remove", RemoveMemberAsync);
        console.MapPost(group + "/nested", NestAsync);
        console.MapPost(group + "/nested/{childId}/remove", UnnestAsync);
        console.MapPost(group + "/delete", DeleteAsync);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var posted = new Dictionary<string, string?>
        {
            ["name"] = form["name"].ToString(), ["description"] = DirectoryPages.Field(form, "description"), ["parent_group_id"] = DirectoryPages.Field(form, "parent_group_id"),
        };
        var body = new JsonObject { ["name"] = posted["name"], ["description"] = posted["description"], ["parent_group_id"] = posted["parent_group_id"] };
        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, GroupPages.ApiGroups(tenantId), body, ifMatch: null, ct);
        if (result.IsSuccess && result.Data?["id"]?.ToString() is { } id)
        {
            return Results.Redirect($"{GroupPages.GroupPath(tenantId, id)}?notice=created");
        }

        if (result.Status is 409 or 422)
        {
            var (error, fields) = DirectoryPages.Errors(result);
            return await GroupPages.TreePageAsync(http, api, tenantId, null, error, fields, posted, result.Status, ct);
        }

        return UserPages.Refused(http, result);
    }

    private static async Task<IResult> RenameAsync(HttpContext http, string tenantId, string groupId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var posted = new Dictionary<string, string?> { ["name"] = form["name"].ToString(), ["description"] = DirectoryPages.Field(form, "description") };
        var body = new JsonObject { ["name"] = posted["name"], ["description"] = posted["description"] };
        return await PatchAsync(http, api, tenantId, groupId, groupId, body, "saved", posted, ct);
    }

    private static async Task<IResult> AddMemberAsync(HttpContext http, string tenantId, string groupId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var email = form["email"].ToString().Trim();
        var posted = new Dictionary<string, string?> { ["email"] = email };
        var token = http.Admin().AccessToken;
        var userId = email.Length == 0 ? null : await DirectoryPages.UserIdByEmailAsync(api, token, tenantId, email, ct);
        if (userId is null)
        {
            var message = email.Length == 0 ? "Enter the email of a user of this tenant." : "No user of this tenant has this email.";
            return await GroupPages.GroupPageAsync(http, api, tenantId, groupId, 1, null, "The member was not added: correct the field marked below.",
                new Dictionary<string, string> { ["email"] = message }, posted, StatusCodes.Status422UnprocessableEntity, ct);
        }

        var result = await api.SendAsync(HttpMethod.Post, token, $"{GroupPages.ApiGroup(tenantId, groupId)}/members",
            new JsonObject { ["user_ids"] = new JsonArray(userId) }, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            var already = (result.Data?["already_members"] as JsonArray)?.Count > 0;
            return Results.Redirect($"{GroupPages.GroupPath(tenantId, groupId)}?notice={(already ? "member-already" : "member-added")}");
        }

        return await AgainAsync(http, api, tenantId, groupId, result, posted, "email", ct);
    }

    private static async Task<IResult> RemoveMemberAsync(HttpContext http, string tenantId, string groupId, string userId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken,
            $"{GroupPages.ApiGroup(tenantId, groupId)}/members/{Uri.EscapeDataString(userId)}", body: null, ifMatch: null, ct);
        return result.IsSuccess ? Results.Redirect($"{GroupPages.GroupPath(tenantId, groupId)}?notice=member-removed") : UserPages.Refused(http, result);
    }

    /// <summary>Nesting a group here is setting its parent to this group.</summary>
    private static async Task<IResult> NestAsync(HttpContext http, string tenantId, string groupId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var childId = DirectoryPages.Field(form, "child_group_id");
        var posted = new Dictionary<string, string?> { ["child_group_id"] = childId };
        if (childId is null)
        {
            return await GroupPages.GroupPageAsync(http, api, tenantId, groupId, 1, null, "No group was nested: correct the field marked below.",
                new Dictionary<string, string> { ["child_group_id"] = "Choose the group to nest." }, posted, StatusCodes.Status422UnprocessableEntity, ct);
        }

        return await PatchAsync(http, api, tenantId, groupId, childId, new JsonObject { ["parent_group_id"] = groupId }, "nested", posted, ct, errorField: "child_group_id");
    }

    /// <summary>Taking a nested group out moves it to the top level, only when it is nested here (not wherever it is).</summary>
    private static async Task<IResult> UnnestAsync(HttpContext http, string tenantId, string groupId, string childId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var child = await api.GetAsync(http.Admin().AccessToken, GroupPages.ApiGroup(tenantId, childId), ct);
        if (!child.IsSuccess)
        {
            return UserPages.Refused(http, child);
        }

        if (child.Data?["parent_group_id"]?.ToString() != groupId)
        {
            return await GroupPages.GroupPageAsync(http, api, tenantId, groupId, 1, null, "That group is not nested in this one; nothing was changed.",
                null, null, StatusCodes.Status409Conflict, ct);
        }

        return await PatchAsync(http, api, tenantId, groupId, childId, new JsonObject { ["parent_group_id"] = null }, "unnested", null, ct);
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string tenantId, string groupId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken, GroupPages.ApiGroup(tenantId, groupId), body: null, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect($"{GroupPages.TreePath(tenantId)}?notice=deleted");
        }

        return result.Status == 409
            ? await GroupPages.GroupPageAsync(http, api, tenantId, groupId, 1, null, result.Message, null, null, result.Status, ct)
            : UserPages.Refused(http, result);
    }

    private static async Task<IResult> PatchAsync(
        HttpContext http, [FromServices] ConsoleApi api, string tenantId, string groupId, string targetId, JsonObject body, string notice,
        IReadOnlyDictionary<string, string?>? posted, CancellationToken ct, string? errorField = null)
    {
        var result = await api.SendAsync(HttpMethod.Patch, http.Admin().AccessToken, GroupPages.ApiGroup(tenantId, targetId), body, ifMatch: null, ct);
        return result.IsSuccess
            ? Results.Redirect($"{GroupPages.GroupPath(tenantId, groupId)}?notice={notice}")
            : await AgainAsync(http, api, tenantId, groupId, result, posted, errorField, ct);
    }

    /// <summary>
    /// The group's page again with the API's 422 or 409 next to the fields it names; errors about another field of the
    /// API (user_ids, parent_group_id) go to the field the admin used (email, child_group_id). Other refusals as they are.
    /// </summary>
    private static async Task<IResult> AgainAsync(
        HttpContext http, ConsoleApi api, string tenantId, string groupId, ApiResult result, IReadOnlyDictionary<string, string?>? posted, string? errorField, CancellationToken ct)
    {
        if (result.Status is not (409 or 422))
        {
            return UserPages.Refused(http, result);
        }

        var (error, fields) = DirectoryPages.Errors(result);
        var shown = fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        if (errorField is not null && result.Status == 422 && !shown.ContainsKey(errorField))
        {
            shown[errorField] = string.Join(" ", shown.Where(f => f.Key is not ("name" or "description")).Select(f => f.Value)) is { Length: > 0 } joined ? joined : result.Message;
        }

        return await GroupPages.GroupPageAsync(http, api, tenantId, groupId, 1, null, error, shown, posted, result.Status, ct);
    }
}
