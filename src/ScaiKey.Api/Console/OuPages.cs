using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The organizational units page group: the tree, one unit, and the create, rename, move and delete actions, each a
/// form POST turned into one API call (POST-redirect-GET on success; the page again with the API's errors otherwise).
/// </summary>
internal static class OuPages
{
    private const string Top = "(top level)";

    public static void Map(IEndpointRouteBuilder console)
    {
        const string ous = "/tenants/{tenantId}/ous";
        const string ou = ous + "/{ouId}";
        console.MapGet(ous, (HttpContext http, string tenantId, string? notice, [FromServices] ConsoleApi api, CancellationToken ct) =>
            TreePageAsync(http, api, tenantId, Notice(notice), null, null, null, StatusCodes.Status200OK, ct));
        console.MapPost(ous, CreateAsync);
        console.MapGet(ou, (HttpContext http, string tenantId, string ouId, string? notice, [FromServices] ConsoleApi api, CancellationToken ct) =>
            OuPageAsync(http, api, tenantId, ouId, Notice(notice), null, null, null, StatusCodes.Status200OK, ct));
        console.MapPost(ou + "/rename", (HttpContext http, string tenantId, string ouId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            UpdateAsync(http, api, tenantId, ouId, "name", "renamed", ct));
        console.MapPost(ou + "/move", (HttpContext http, string tenantId, string ouId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            UpdateAsync(http, api, tenantId, ouId, "parent_id", "moved", ct));
        console.MapGet(ou + "/confirm-delete", ConfirmDeleteAsync);
        console.MapPost(ou + "/delete", DeleteAsync);
    }

    private static string TreePath(string tenantId) => DirectoryPages.ConsoleTenantPath(tenantId) + "/ous";

    private static string OuPath(string tenantId, string ouId) => $"{TreePath(tenantId)}/{Uri.EscapeDataString(ouId)}";

    private static string ApiOus(string tenantId) => DirectoryPages.ApiTenantPath(tenantId) + "/ous";

    private static async Task<IResult> TreePageAsync(
        HttpContext http, ConsoleApi api, string tenantId, string? notice, string? error, IReadOnlyDictionary<string, string>? fieldErrors,
        IReadOnlyDictionary<string, string?>? posted, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var access = DirectoryPages.AccessAsync(api, token, tenantId, ct);
        var (items, result) = await DirectoryPages.ReadAllAsync(api, token, ApiOus(tenantId), ct);
        if (!result.IsSuccess)
        {
            return UserPages.Refused(http, result);
        }

        return ConsolePages.Render<OusPage>(http, new()
        {
            ["Access"] = await access, ["Tree"] = DirectoryPages.Tree(items, "parent_id", id => OuPath(tenantId, id)),
            ["Parents"] = Parents(items, exclude: []), ["Notice"] = notice, ["Error"] = error,
            ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(), ["Posted"] = posted,
        }, status);
    }

    private static async Task<IResult> OuPageAsync(
        HttpContext http, ConsoleApi api, string tenantId, string ouId, string? notice, string? error, IReadOnlyDictionary<string, string>? fieldErrors,
        IReadOnlyDictionary<string, string?>? posted, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var access = DirectoryPages.AccessAsync(api, token, tenantId, ct);
        var reading = api.GetAsync(token, $"{ApiOus(tenantId)}/{Uri.EscapeDataString(ouId)}", ct);
        var (items, all) = await DirectoryPages.ReadAllAsync(api, token, ApiOus(tenantId), ct);
        var ou = await reading;
        if (!ou.IsSuccess || ou.Data is not { } data)
        {
            return UserPages.Refused(http, ou);
        }

        // A unit cannot move below itself: its own subtree is not offered (the API refuses it anyway).
        var subtree = DirectoryPages.Subtree(items, "parent_id", ouId);
        var below = items.Where(i => subtree.Contains(i["id"]?.ToString() ?? string.Empty) && i["id"]?.ToString() != ouId).ToList();
        return ConsolePages.Render<OuPage>(http, new()
        {
            ["Access"] = await access, ["Ou"] = data,
            ["Children"] = DirectoryPages.Tree(below, "parent_id", id => OuPath(tenantId, id)),
            ["Parents"] = all.IsSuccess ? Parents(items, subtree) : [],
            ["Notice"] = notice, ["Error"] = error, ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(), ["Posted"] = posted,
        }, status);
    }

    private static IReadOnlyList<Choice> Parents(IReadOnlyList<JsonNode> items, HashSet<string> exclude) =>
        [new(string.Empty, Top), .. items.Where(i => !exclude.Contains(i["id"]?.ToString() ?? string.Empty))
            .Select(i => new Choice(i["id"]?.ToString() ?? string.Empty, i["path"]?.ToString() ?? string.Empty))];

    private static async Task<IResult> CreateAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var posted = new Dictionary<string, string?> { ["name"] = form["name"].ToString(), ["parent_id"] = DirectoryPages.Field(form, "parent_id") };
        var body = new JsonObject { ["name"] = posted["name"], ["parent_id"] = posted["parent_id"] };
        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, ApiOus(tenantId), body, ifMatch: null, ct);
        if (result.IsSuccess && result.Data?["id"]?.ToString() is { } id)
        {
            return Results.Redirect($"{OuPath(tenantId, id)}?notice=created");
        }

        if (result.Status is 409 or 422)
        {
            var (error, fields) = DirectoryPages.Errors(result);
            return await TreePageAsync(http, api, tenantId, null, error, fields, posted, result.Status, ct);
        }

        return UserPages.Refused(http, result);
    }

    /// <summary>A rename (name) or a move (parent_id; the top level is null).</summary>
    private static async Task<IResult> UpdateAsync(HttpContext http, [FromServices] ConsoleApi api, string tenantId, string ouId, string field, string notice, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var value = field == "name" ? form["name"].ToString() : DirectoryPages.Field(form, field);
        var result = await api.SendAsync(HttpMethod.Patch, http.Admin().AccessToken, $"{ApiOus(tenantId)}/{Uri.EscapeDataString(ouId)}",
            new JsonObject { [field] = value }, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect($"{OuPath(tenantId, ouId)}?notice={notice}");
        }

        if (result.Status is 409 or 422)
        {
            var (error, fields) = DirectoryPages.Errors(result);
            return await OuPageAsync(http, api, tenantId, ouId, null, error, fields, new Dictionary<string, string?> { [field] = value }, result.Status, ct);
        }

        return UserPages.Refused(http, result);
    }

    private static async Task<IResult> ConfirmDeleteAsync(HttpContext http, string tenantId, string ouId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var ou = await api.GetAsync(http.Admin().AccessToken, $"{ApiOus(tenantId)}/{Uri.EscapeDataString(ouId)}", ct);
        if (!ou.IsSuccess || ou.Data is not { } data)
        {
            return UserPages.Refused(http, ou);
        }

        var path = data["path"]?.ToString();
        return ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = $"Delete the unit {path}?",
            ["Explanation"] = $"The unit {path} is deleted. Only an empty unit can be: if it still has child units or users, nothing is deleted and you are told so; move them first. Users and groups elsewhere are not touched.",
            ["ButtonText"] = "Delete unit", ["Action"] = OuPath(tenantId, ouId) + "/delete", ["BackHref"] = OuPath(tenantId, ouId),
        });
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string tenantId, string ouId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken, $"{ApiOus(tenantId)}/{Uri.EscapeDataString(ouId)}", body: null, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect($"{TreePath(tenantId)}?notice=deleted");
        }

        // Not empty (409): the unit's page says why, nothing was deleted.
        return result.Status == 409
            ? await OuPageAsync(http, api, tenantId, ouId, null, result.Message, null, null, result.Status, ct)
            : UserPages.Refused(http, result);
    }

    private static string? Notice(string? code) => code switch
    {
        "created" => "The unit was created.",
        "renamed" => "The unit was renamed; the paths below it follow.",
        "moved" => "The unit was moved; the paths below it follow.",
        "deleted" => "The unit was deleted.",
        _ => null,
    };
}
