using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// Partners (platform admins: list, create, rename) and a partner's page with its tenants (platform admins, and
/// partner admins for their own partners, whose list of tenants the API filters by partner).
/// </summary>
internal static class PartnerPages
{
    public static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/partners", ListAsync);
        console.MapPost("/partners", CreateAsync);
        console.MapGet("/partners/{partnerId}", PartnerAsync);
        console.MapPost("/partners/{partnerId}/rename", RenameAsync);
    }

    public static string PartnerPath(string partnerId) => $"/console/partners/{Uri.EscapeDataString(partnerId)}";

    private static string ApiPartnerPath(string partnerId) => $"api/v1/admin/partners/{Uri.EscapeDataString(partnerId)}";

    private static async Task<IResult> ListAsync(HttpContext http, [FromServices] ConsoleApi api, int? page, CancellationToken ct) =>
        await ListPageAsync(http, api, page is > 0 ? page.Value : 1, null, null, StatusCodes.Status200OK, ct);

    private static async Task<IResult> ListPageAsync(
        HttpContext http, ConsoleApi api, int page, string? error, IReadOnlyDictionary<string, string>? fieldErrors, int status, CancellationToken ct)
    {
        var result = await api.GetAsync(http.Admin().AccessToken, $"api/v1/admin/partners?per_page=50&page={page}", ct);
        if (!result.IsSuccess)
        {
            return UserPages.Refused(http, result);
        }

        return ConsolePages.Render<PartnersPage>(http, new()
        {
            ["Partners"] = UserPages.Items(result.Data), ["Paging"] = Paging.From(result.Json?["pagination"]),
            ["Error"] = error, ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(),
        }, status);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, "api/v1/admin/partners",
            new JsonObject { ["name"] = form["name"].ToString() }, ifMatch: null, ct);
        if (result.IsSuccess && result.Data?["id"]?.ToString() is { } id)
        {
            return Results.Redirect(PartnerPath(id) + "?notice=created");
        }

        return result.Status is 409 or 422
            ? await ListPageAsync(http, api, 1, "The partner was not created: correct the field marked below.", NameErrors(result), StatusCodes.Status422UnprocessableEntity, ct)
            : UserPages.Refused(http, result);
    }

    private static async Task<IResult> PartnerAsync(HttpContext http, string partnerId, [FromServices] ConsoleApi api, string? notice, int? page, CancellationToken ct) =>
        await PartnerPageAsync(http, api, partnerId, page is > 0 ? page.Value : 1, notice switch
        {
            "created" => "Partner created.",
            "renamed" => "Partner renamed.",
            _ => null,
        }, null, StatusCodes.Status200OK, ct);

    private static async Task<IResult> PartnerPageAsync(
        HttpContext http, ConsoleApi api, string partnerId, int page, string? notice, IReadOnlyDictionary<string, string>? fieldErrors, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var reading = api.GetAsync(token, ApiPartnerPath(partnerId), ct);
        var tenants = await api.GetAsync(token, $"api/v1/admin/tenants?partner_id={Uri.EscapeDataString(partnerId)}&per_page=50&page={page}", ct);
        if (!tenants.IsSuccess)
        {
            return UserPages.Refused(http, tenants);
        }

        // Only platform admins read (and rename) partners; a partner admin's page names the partner by its id.
        var partner = await reading;
        return ConsolePages.Render<PartnerPage>(http, new()
        {
            ["PartnerId"] = partnerId, ["Partner"] = partner.IsSuccess ? partner.Data : null,
            ["Tenants"] = UserPages.Items(tenants.Data), ["Paging"] = Paging.From(tenants.Json?["pagination"]),
            ["Notice"] = notice, ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(),
        }, status);
    }

    private static async Task<IResult> RenameAsync(HttpContext http, string partnerId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var result = await api.SendAsync(HttpMethod.Patch, http.Admin().AccessToken, ApiPartnerPath(partnerId),
            new JsonObject { ["name"] = form["name"].ToString() }, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect(PartnerPath(partnerId) + "?notice=renamed");
        }

        return result.Status is 409 or 422
            ? await PartnerPageAsync(http, api, partnerId, 1, null, NameErrors(result), StatusCodes.Status422UnprocessableEntity, ct)
            : UserPages.Refused(http, result);
    }

    /// <summary>A 422 by field, or a 409 (the name is taken) shown at the name.</summary>
    private static IReadOnlyDictionary<string, string> NameErrors(ApiResult result) =>
        result.Status == 422 ? result.FieldErrors() : new Dictionary<string, string> { ["name"] = result.Message };
}
