using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The credentials page group: admin clients (platform and partner admins, as /api/v1/admin/clients scopes them),
/// a tenant's SCIM tokens (directory.write) and the token signing keys (platform admins). Secrets are shown once,
/// in the response that created them; the lists show no secret at all.
/// </summary>
internal static class CredentialPages
{
    private const string AdminClientsPath = "/console/admin-clients";
    private const string SigningKeysPath = "/console/signing-keys";

    public static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/admin-clients", AdminClientsAsync);
        console.MapPost("/admin-clients", CreateAdminClientAsync);
        console.MapGet("/admin-clients/{clientId}/confirm/delete", ConfirmAdminClientDeleteAsync);
        console.MapPost("/admin-clients/{clientId}/delete", DeleteAdminClientAsync);

        var scim = "/tenants/{tenantId}/scim-tokens";
        console.MapGet(scim, ScimTokensAsync);
        console.MapPost(scim, CreateScimTokenAsync);
        console.MapGet(scim + "/{tokenId}/confirm/delete", ConfirmScimTokenDeleteAsync);
        console.MapPost(scim + "/{tokenId}/delete", DeleteScimTokenAsync);

        console.MapGet("/signing-keys", SigningKeysAsync);
        console.MapGet("/signing-keys/confirm/rotate", (HttpContext http) => ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = "Rotate the signing key?",
            ["Explanation"] = "A new key signs every token from now on, for every tenant. The current key stays published and accepted until the tokens it signed have expired, then it is retired.",
            ["ButtonText"] = "Rotate signing key", ["Action"] = SigningKeysPath + "/rotate", ["BackHref"] = SigningKeysPath,
        }));
        console.MapPost("/signing-keys/rotate", RotateSigningKeyAsync);
    }

    // ---- admin clients ----

    private static async Task<IResult> AdminClientsAsync(HttpContext http, string? notice, [FromServices] ConsoleApi api, CancellationToken ct) =>
        await AdminClientsPageAsync(http, api, notice == "deleted" ? "The admin client is deleted." : null, null, null, StatusCodes.Status200OK, ct);

    private static async Task<IResult> AdminClientsPageAsync(
        HttpContext http, ConsoleApi api, string? notice, IReadOnlyDictionary<string, string?>? posted, IReadOnlyDictionary<string, string>? errors, int status, CancellationToken ct)
    {
        var list = await api.GetAsync(http.Admin().AccessToken, "api/v1/admin/clients?per_page=100", ct);
        if (!list.IsSuccess)
        {
            return UserPages.Refused(http, list);
        }

        return ConsolePages.Render<AdminClientsPage>(http, new()
        {
            ["Clients"] = UserPages.Items(list.Data), ["Total"] = Paging.From(list.Json?["pagination"]).TotalItems, ["Notice"] = notice,
            ["Posted"] = posted, ["FieldErrors"] = errors ?? new Dictionary<string, string>(),
        }, status);
    }

    private static async Task<IResult> CreateAdminClientAsync(HttpContext http, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var body = new JsonObject { ["name"] = FormFields.Text(form, "name") };
        if (FormFields.Text(form, "partner_id") is { Length: > 0 } partnerId)
        {
            body["partner_id"] = partnerId;
        }

        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, "api/v1/admin/clients", body, ifMatch: null, ct);
        if (result.Status == 422)
        {
            return await AdminClientsPageAsync(http, api, null, FormFields.Posted(form, []), FormFields.Errors(result), StatusCodes.Status422UnprocessableEntity, ct);
        }

        if (!result.IsSuccess || result.Data?["client_secret"]?.ToString() is not { Length: > 0 } secret)
        {
            return UserPages.Refused(http, result);
        }

        return ApplicationActions.Secret(http, "Admin client created",
            $"{result.Data["name"]} has client id {result.Data["client_id"]} and no role yet: grant it roles with a role assignment. Give its operator this secret.",
            secret, AdminClientsPath);
    }

    private static async Task<IResult> ConfirmAdminClientDeleteAsync(HttpContext http, string clientId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var client = await api.GetAsync(http.Admin().AccessToken, "api/v1/admin/clients/" + Uri.EscapeDataString(clientId), ct);
        if (!client.IsSuccess || client.Data is not { } data)
        {
            return UserPages.Refused(http, client);
        }

        var name = $"{data["name"]} ({data["client_id"]})";
        return ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = $"Delete the admin client {name}?",
            ["Explanation"] = $"{name} is deleted with its role assignments; its tokens stop working at once. This cannot be undone.",
            ["ButtonText"] = "Delete admin client", ["Action"] = $"{AdminClientsPath}/{Uri.EscapeDataString(clientId)}/delete", ["BackHref"] = AdminClientsPath,
        });
    }

    private static async Task<IResult> DeleteAdminClientAsync(HttpContext http, string clientId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken, "api/v1/admin/clients/" + Uri.EscapeDataString(clientId), body: null, ifMatch: null, ct);
        return result.IsSuccess ? Results.Redirect(AdminClientsPath + "?notice=deleted") : UserPages.Refused(http, result);
    }

    // ---- SCIM tokens ----

    private static string ScimPath(string tenantId) => $"/console/tenants/{Uri.EscapeDataString(tenantId)}/scim-tokens";

    private static string ScimApi(string tenantId) => $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/scim/tokens";

    private static Task<IResult> ScimTokensAsync(HttpContext http, string tenantId, string? notice, [FromServices] ConsoleApi api, CancellationToken ct) =>
        ScimTokensPageAsync(http, api, tenantId, notice == "deleted" ? "The token is deleted; it no longer works." : null, null, null, StatusCodes.Status200OK, ct);

    private static async Task<IResult> ScimTokensPageAsync(
        HttpContext http, ConsoleApi api, string tenantId, string? notice, IReadOnlyDictionary<string, string?>? posted,
        IReadOnlyDictionary<string, string>? errors, int status, CancellationToken ct)
    {
        // The list needs directory.write like the rest of the tokens' API, so whoever sees it may also create and delete.
        var list = await api.GetAsync(http.Admin().AccessToken, ScimApi(tenantId) + "?per_page=100", ct);
        if (!list.IsSuccess)
        {
            return UserPages.Refused(http, list);
        }

        return ConsolePages.Render<ScimTokensPage>(http, new()
        {
            ["TenantId"] = tenantId, ["Tokens"] = UserPages.Items(list.Data), ["Total"] = Paging.From(list.Json?["pagination"]).TotalItems,
            ["Notice"] = notice, ["Posted"] = posted, ["FieldErrors"] = errors ?? new Dictionary<string, string>(),
        }, status);
    }

    private static async Task<IResult> CreateScimTokenAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var body = new JsonObject { ["name"] = FormFields.Text(form, "name") };

        // A date input gives a day: the token works until the end of it (UTC).
        if (FormFields.Text(form, "expires_on") is { Length: > 0 } day)
        {
            body["expires_at"] = DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                ? date.ToDateTime(new TimeOnly(23, 59, 59), DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture)
                : day;
        }

        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, ScimApi(tenantId), body, ifMatch: null, ct);
        if (result.Status == 422)
        {
            var errors = FormFields.Errors(result);
            if (errors.Remove("expires_at", out var expiry))
            {
                errors["expires_on"] = expiry;
            }

            return await ScimTokensPageAsync(http, api, tenantId, null, FormFields.Posted(form, []), errors, StatusCodes.Status422UnprocessableEntity, ct);
        }

        if (!result.IsSuccess || result.Data?["token"]?.ToString() is not { Length: > 0 } token)
        {
            return UserPages.Refused(http, result);
        }

        return ApplicationActions.Secret(http, "SCIM token created",
            $"Give {result.Data["name"]} to the provisioning client (Entra ID, Okta…) as its bearer token for /scim/v2.", token, ScimPath(tenantId), "SCIM token:");
    }

    private static async Task<IResult> ConfirmScimTokenDeleteAsync(HttpContext http, string tenantId, string tokenId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        // There is no single-token read: the list names it.
        var list = await api.GetAsync(http.Admin().AccessToken, ScimApi(tenantId) + "?per_page=100", ct);
        if (!list.IsSuccess)
        {
            return UserPages.Refused(http, list);
        }

        var token = UserPages.Items(list.Data).FirstOrDefault(t => t["id"]?.ToString() == tokenId);
        var name = token is null ? "this token" : $"{token["name"]} ({token["prefix"]}…)";
        return ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = $"Delete the SCIM token {name}?",
            ["Explanation"] = $"{name} stops working at once: the provisioning client using it can no longer create, change or delete users and groups.",
            ["ButtonText"] = "Delete token", ["Action"] = $"{ScimPath(tenantId)}/{Uri.EscapeDataString(tokenId)}/delete", ["BackHref"] = ScimPath(tenantId),
        });
    }

    private static async Task<IResult> DeleteScimTokenAsync(HttpContext http, string tenantId, string tokenId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken, $"{ScimApi(tenantId)}/{Uri.EscapeDataString(tokenId)}", body: null, ifMatch: null, ct);
        return result.IsSuccess ? Results.Redirect(ScimPath(tenantId) + "?notice=deleted") : UserPages.Refused(http, result);
    }

    // ---- signing keys ----

    private static async Task<IResult> SigningKeysAsync(HttpContext http, string? notice, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var list = await api.GetAsync(http.Admin().AccessToken, "api/v1/admin/signing-keys", ct);
        if (!list.IsSuccess)
        {
            return UserPages.Refused(http, list);
        }

        return ConsolePages.Render<SigningKeysPage>(http, new()
        {
            ["Keys"] = UserPages.Items(list.Data), ["Notice"] = notice == "rotated" ? "The signing key is rotated: the new key signs from now on." : null,
        });
    }

    private static async Task<IResult> RotateSigningKeyAsync(HttpContext http, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, "api/v1/admin/signing-keys/rotate", body: null, ifMatch: null, ct);
        return result.IsSuccess ? Results.Redirect(SigningKeysPath + "?notice=rotated") : UserPages.Refused(http, result);
    }
}
