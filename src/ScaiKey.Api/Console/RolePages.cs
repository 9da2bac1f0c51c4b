using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The tenant's role assignments through the admin API (/api/v1/admin/role-assignments, filtered to the tenant):
/// listing, granting a tenant role and revoking. Only platform and partner admins reach that API; anyone else sees
/// its refusal.
/// </summary>
internal static class RolePages
{
    private const int PerPage = 50;
    private const string ApiAssignments = "api/v1/admin/role-assignments";

    public static void Map(IEndpointRouteBuilder console)
    {
        const string roles = "/tenants/{tenantId}/roles";
        console.MapGet(roles, (HttpContext http, string tenantId, string? notice, int? page, [FromServices] ConsoleApi api, CancellationToken ct) =>
            PageAsync(http, api, tenantId, page ?? 1, Notice(notice), null, null, null, StatusCodes.Status200OK, ct));
        console.MapPost(roles, GrantAsync);
        console.MapGet(roles + "/{assignmentId}/confirm-revoke", ConfirmRevokeAsync);
        console.MapPost(roles + "/{assignmentId}/revoke", RevokeAsync);
    }

    private static string RolesPath(string tenantId) => DirectoryPages.ConsoleTenantPath(tenantId) + "/roles";

    private static async Task<IResult> PageAsync(
        HttpContext http, [FromServices] ConsoleApi api, string tenantId, int page, string? notice, string? error,
        IReadOnlyDictionary<string, string>? fieldErrors, IReadOnlyDictionary<string, string?>? posted, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var access = DirectoryPages.AccessAsync(api, token, tenantId, ct);
        var list = await api.GetAsync(token, $"{ApiAssignments}?tenant_id={Uri.EscapeDataString(tenantId)}&per_page={PerPage}&page={Math.Max(1, page)}", ct);
        if (!list.IsSuccess)
        {
            return UserPages.Refused(http, list);
        }

        var assignments = UserPages.Items(list.Data);
        return ConsolePages.Render<RolesPage>(http, new()
        {
            ["Access"] = await access, ["Assignments"] = assignments, ["Emails"] = await EmailsAsync(api, token, tenantId, assignments, ct),
            ["Paging"] = Paging.From(list.Json?["pagination"]), ["Notice"] = notice, ["Error"] = error,
            ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(), ["Posted"] = posted,
        }, status);
    }

    /// <summary>The emails of the users on this page who belong to the tenant (one read each, at most a page's worth).</summary>
    private static async Task<IReadOnlyDictionary<string, string>> EmailsAsync(
        ConsoleApi api, string token, string tenantId, IReadOnlyList<JsonNode> assignments, CancellationToken ct)
    {
        var ids = assignments.Where(a => a["principal_type"]?.ToString() == "USER").Select(a => a["principal_id"]?.ToString()).OfType<string>()
            .Distinct(StringComparer.Ordinal).ToList();
        var reads = await Task.WhenAll(ids.Select(id => api.GetAsync(token, UserPages.ApiUserPath(tenantId, id), ct)));
        return ids.Zip(reads).Where(p => p.Second.Data?["email"] is not null)
            .ToDictionary(p => p.First, p => p.Second.Data!["email"]!.ToString(), StringComparer.Ordinal);
    }

    private static async Task<IResult> GrantAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var type = form["principal_type"].ToString() == "CLIENT" ? "CLIENT" : "USER";
        var posted = new Dictionary<string, string?>
        {
            ["principal_type"] = type, ["email"] = DirectoryPages.Field(form, "email"), ["client_id"] = DirectoryPages.Field(form, "client_id"),
            ["role"] = form["role"].ToString(),
        };
        var token = http.Admin().AccessToken;
        var field = type == "USER" ? "email" : "client_id";
        var principalId = type == "USER"
            ? posted["email"] is { } email ? await DirectoryPages.UserIdByEmailAsync(api, token, tenantId, email, ct) : null
            : posted["client_id"];
        if (principalId is null)
        {
            var message = posted[field] is null ? (type == "USER" ? "Enter the user's email." : "Enter the admin client's client ID.") : "No user of this tenant has this email.";
            return await PageAsync(http, api, tenantId, 1, null, "No role was granted: correct the field marked below.",
                new Dictionary<string, string> { [field] = message }, posted, StatusCodes.Status422UnprocessableEntity, ct);
        }

        var body = new JsonObject { ["principal_type"] = type, ["principal_id"] = principalId, ["role"] = posted["role"], ["tenant_id"] = tenantId };
        var result = await api.SendAsync(HttpMethod.Post, token, ApiAssignments, body, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect($"{RolesPath(tenantId)}?notice=granted");
        }

        if (result.Status is not (409 or 422))
        {
            return UserPages.Refused(http, result);
        }

        // The API names principal_id; the admin typed an email or a client ID.
        var (error, fields) = DirectoryPages.Errors(result);
        var shown = fields.ToDictionary(f => f.Key == "principal_id" ? field : f.Key, f => f.Value, StringComparer.Ordinal);
        return await PageAsync(http, api, tenantId, 1, null, error, shown, posted, result.Status, ct);
    }

    private static async Task<IResult> ConfirmRevokeAsync(HttpContext http, string tenantId, string assignmentId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var assignment = await api.GetAsync(token, $"{ApiAssignments}/{Uri.EscapeDataString(assignmentId)}", ct);
        if (!assignment.IsSuccess || assignment.Data is not { } data)
        {
            return UserPages.Refused(http, assignment);
        }

        // This page speaks of "this tenant": an assignment of another tenant (or platform- or partner-wide), which a
        // wider admin may read, is not found here rather than described as this tenant's.
        if (data["tenant_id"]?.ToString() != tenantId)
        {
            return UserPages.Refused(http, new ApiResult(StatusCodes.Status404NotFound, new System.Text.Json.Nodes.JsonObject { ["detail"] = "This role assignment is not one of this tenant's." }, null));
        }

        var principal = data["principal_id"]?.ToString() ?? string.Empty;
        var who = data["principal_type"]?.ToString() == "USER"
            ? (await api.GetAsync(token, UserPages.ApiUserPath(tenantId, principal), ct)).Data?["email"]?.ToString() ?? principal
            : $"the admin client {principal}";
        var role = RolesPage.RoleName(data["role"]?.ToString());
        return GroupPages.Confirm(http, $"Revoke {role} from {who}?",
            $"{who} loses the role {role} in this tenant at once: the API refuses their next call that needed it. Their account is not changed.",
            "Revoke role", $"{RolesPath(tenantId)}/{Uri.EscapeDataString(assignmentId)}/revoke", RolesPath(tenantId));
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, string tenantId, string assignmentId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken, $"{ApiAssignments}/{Uri.EscapeDataString(assignmentId)}", body: null, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect($"{RolesPath(tenantId)}?notice=revoked");
        }

        return result.Status == 409
            ? await PageAsync(http, api, tenantId, 1, null, result.Message, null, null, result.Status, ct)
            : UserPages.Refused(http, result);
    }

    private static string? Notice(string? code) => code switch
    {
        "granted" => "The role was granted.",
        "revoked" => "The role was revoked.",
        _ => null,
    };
}
