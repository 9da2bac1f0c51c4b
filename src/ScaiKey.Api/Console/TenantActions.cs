using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// A new tenant and its first admin, composed of the API's own calls with the admin's token: create the tenant, then
/// its first user (invited by email: the API's invitation sets the password and verifies the address), then that
/// user's TENANT_ADMIN role. When the tenant was created but its admin was not, the page continues from there.
/// </summary>
internal static class TenantActions
{
    public static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/tenants/new", (HttpContext http, [FromServices] ConsoleApi api, string? partner_id, CancellationToken ct) =>
            NewTenantPageAsync(http, api, null, new Dictionary<string, string?> { ["partner_id"] = partner_id }, null, null, StatusCodes.Status200OK, ct));
        console.MapPost("/tenants/new", CreateAsync);
        console.MapGet("/tenants/{tenantId}/first-admin", (HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            NewTenantPageAsync(http, api, tenantId, new Dictionary<string, string?>(), null, null, StatusCodes.Status200OK, ct));
        console.MapPost("/tenants/{tenantId}/first-admin", async (HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            await FirstAdminAsync(http, api, tenantId, Posted(await http.Request.ReadFormAsync(ct)), ct));
    }

    private static readonly string[] Fields = ["name", "slug", "partner_id", "email", "first_name", "last_name"];

    private static Dictionary<string, string?> Posted(IFormCollection form) =>
        Fields.ToDictionary(f => f, f => (string?)form[f].ToString(), StringComparer.Ordinal);

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var posted = Posted(await http.Request.ReadFormAsync(ct));
        var body = new JsonObject { ["name"] = posted["name"] };
        if (posted["slug"] is { Length: > 0 } slug)
        {
            body["slug"] = slug;
        }

        // Empty: the API decides (a partner admin's only partner; no partner for the platform's own tenants).
        if (posted["partner_id"] is { Length: > 0 } partnerId)
        {
            body["partner_id"] = partnerId;
        }

        var created = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, "api/v1/admin/tenants", body, ifMatch: null, ct);
        if (created.Status is 409 or 422)
        {
            var errors = created.Status == 422 ? created.FieldErrors() : new Dictionary<string, string> { ["slug"] = created.Message };
            return await NewTenantPageAsync(http, api, null, posted, "The tenant was not created: correct the fields marked below.", errors,
                StatusCodes.Status422UnprocessableEntity, ct);
        }

        if (!created.IsSuccess || created.Data?["id"]?.ToString() is not { } tenantId)
        {
            return UserPages.Refused(http, created);
        }

        return await FirstAdminAsync(http, api, tenantId, posted, ct);
    }

    private static async Task<IResult> FirstAdminAsync(HttpContext http, ConsoleApi api, string tenantId, Dictionary<string, string?> posted, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var user = new JsonObject { ["email"] = posted["email"], ["send_welcome_email"] = true };
        foreach (var name in new[] { "first_name", "last_name" })
        {
            if (posted[name] is { Length: > 0 } value)
            {
                user[name] = value;
            }
        }

        var created = await api.SendAsync(HttpMethod.Post, token, $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/users", user, ifMatch: null, ct);
        if (created.Status is 409 or 422)
        {
            var errors = created.Status == 422 ? created.FieldErrors() : new Dictionary<string, string> { ["email"] = created.Message };
            return await NewTenantPageAsync(http, api, tenantId, posted, "The tenant exists; its first admin was not created: correct the fields marked below.",
                errors, StatusCodes.Status422UnprocessableEntity, ct);
        }

        if (!created.IsSuccess || created.Data?["id"]?.ToString() is not { } userId)
        {
            return UserPages.Refused(http, created);
        }

        var granted = await api.SendAsync(HttpMethod.Post, token, "api/v1/admin/role-assignments", new JsonObject
        {
            ["principal_type"] = "USER", ["principal_id"] = userId, ["role"] = "TENANT_ADMIN", ["tenant_id"] = tenantId,
        }, ifMatch: null, ct);
        if (!granted.IsSuccess)
        {
            return UserPages.Refused(http, granted);
        }

        return ConsolePages.Render<MessagePage>(http, new()
        {
            ["Heading"] = "Tenant ready",
            ["Text"] = $"{posted["email"]} is the tenant's admin and was sent an invitation to set a password.",
            ["LinkHref"] = UserPages.UserPath(tenantId, userId), ["LinkText"] = "Open the new admin",
        });
    }

    private static async Task<IResult> NewTenantPageAsync(
        HttpContext http, ConsoleApi api, string? tenantId, IReadOnlyDictionary<string, string?> posted, string? error,
        IReadOnlyDictionary<string, string>? fieldErrors, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        string? tenantName = null;
        if (tenantId is not null)
        {
            var tenant = await api.GetAsync(token, $"api/v1/admin/tenants/{Uri.EscapeDataString(tenantId)}", ct);
            if (!tenant.IsSuccess)
            {
                return UserPages.Refused(http, tenant);
            }

            tenantName = tenant.Data?["name"]?.ToString();
        }

        // Platform admins choose the partner from the list only they can read; partner admins' own partner is the API's default.
        var partners = tenantId is null ? await api.GetAsync(token, "api/v1/admin/partners?per_page=100", ct) : null;
        return ConsolePages.Render<NewTenantPage>(http, new()
        {
            ["TenantId"] = tenantId, ["TenantName"] = tenantName, ["Posted"] = posted,
            ["Partners"] = partners is { IsSuccess: true } ? UserPages.Items(partners.Data) : null,
            ["Error"] = error, ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(),
        }, status);
    }
}
