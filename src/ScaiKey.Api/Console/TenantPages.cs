using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>The tenants a platform or partner admin reaches (the admin API's list), each leading to its users and settings.</summary>
internal static class TenantPages
{
    public static void Map(IEndpointRouteBuilder console) => console.MapGet("/tenants", ListAsync);

    private static async Task<IResult> ListAsync(HttpContext http, [FromServices] ConsoleApi api, int? page, CancellationToken ct)
    {
        var current = page is > 0 ? page.Value : 1;
        var token = http.Admin().AccessToken;
        var partners = api.GetAsync(token, "api/v1/admin/partners?per_page=1", ct);
        var result = await api.GetAsync(token, $"api/v1/admin/tenants?per_page=50&page={current}", ct);
        if (result.Status == StatusCodes.Status403Forbidden)
        {
            // A tenant's own admin has no tenants list: their tenant is the one they manage.
            return Results.Redirect(UserPages.UsersPath(http.Admin().TenantId));
        }

        if (!result.IsSuccess)
        {
            return UserPages.Refused(http, result);
        }

        return ConsolePages.Render<TenantsPage>(http, new()
        {
            ["Tenants"] = UserPages.Items(result.Data), ["Paging"] = Paging.From(result.Json?["pagination"]),

            // Only platform admins may read partners: their link is offered to them alone.
            ["ShowPartners"] = (await partners).IsSuccess,
        });
    }
}
