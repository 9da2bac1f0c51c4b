using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>The users page group's reading pages: the list, a user, and the confirmation before each destructive action.</summary>
internal static class UserPages
{
    private const string UserIncludes = "sessions,applications,federated_identities,mfa_factors";

    public static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/tenants/{tenantId}/users", ListAsync);
        console.MapGet("/tenants/{tenantId}/users/{userId}", UserAsync);
        console.MapGet("/tenants/{tenantId}/users/{userId}/confirm/{action}", ConfirmAsync);
    }

    public static string UsersPath(string tenantId) => $"/console/tenants/{Uri.EscapeDataString(tenantId)}/users";

    public static string UserPath(string tenantId, string userId) => $"{UsersPath(tenantId)}/{Uri.EscapeDataString(userId)}";

    public static string ApiUserPath(string tenantId, string userId) =>
        $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/users/{Uri.EscapeDataString(userId)}";

    private static async Task<IResult> ListAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, [FromServices] IOptions<ConsoleOptions> options, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var q = http.Request.Query;
        var query = new UserListQuery(
            Empty(q["search"]), Empty(q["status"]), Empty(q["ou_id"]), Empty(q["group_id"]), Empty(q["mfa_enabled"]),
            UserListQuery.SortFields.Contains(q["sort_by"].ToString()) ? q["sort_by"].ToString() : "created_at",
            q["sort_order"] == "asc" ? "asc" : "desc",
            int.TryParse(q["page"], out var page) && page > 0 ? page : 1);

        var tenantPath = $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}";
        var listing = api.GetAsync(token, $"{tenantPath}/users?{query.ToQuery(query.Page, options.Value.PageSize)}", ct);
        var ous = api.GetAsync(token, $"{tenantPath}/ous?per_page=100", ct);
        var groups = api.GetAsync(token, $"{tenantPath}/groups?per_page=100", ct);
        var list = await listing;
        if (!list.IsSuccess && list.Status != 422)
        {
            return Refused(http, list);
        }

        return ConsolePages.Render<UsersPage>(http, new()
        {
            ["TenantId"] = tenantId,
            ["TenantName"] = await TenantNameAsync(api, token, tenantId, ct),
            ["Query"] = query,
            ["Users"] = Items(list.Data),
            ["Paging"] = Paging.From(list.Json?["pagination"]),
            ["Ous"] = Items((await ous).Data),
            ["Groups"] = Items((await groups).Data),
            ["Error"] = list.IsSuccess ? null : list.Message,
        }, list.IsSuccess ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity);
    }

    private static async Task<IResult> UserAsync(HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, string? notice, CancellationToken ct) =>
        await UserPageAsync(http, api, tenantId, userId, Notice(notice), error: null, fieldErrors: null, posted: null, StatusCodes.Status200OK, ct);

    /// <summary>The user's page, optionally with a posted profile and its errors shown again.</summary>
    public static async Task<IResult> UserPageAsync(
        HttpContext http, ConsoleApi api, string tenantId, string userId, string? notice, string? error,
        IReadOnlyDictionary<string, string>? fieldErrors, IReadOnlyDictionary<string, string?>? posted, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var reading = api.GetAsync(token, $"{ApiUserPath(tenantId, userId)}?include={UserIncludes}", ct);
        // What the admin may do to this user: a user holding wider roles than the admin's is refused by the API.
        var permissions = PermissionsAsync(api, token, tenantId, ct, userId);
        var audit = api.GetAsync(token, $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/audit-events?target_id={Uri.EscapeDataString(userId)}&per_page=50", ct);
        var user = await reading;
        if (!user.IsSuccess || user.Data is not { } data)
        {
            return Refused(http, user);
        }

        var trail = await audit;
        return ConsolePages.Render<UserPage>(http, new()
        {
            ["TenantId"] = tenantId,
            ["User"] = data,
            ["ETag"] = user.ETag,
            ["Permissions"] = await permissions,

            // Shown only when the API lets the admin read the tenant's audit trail.
            ["Audit"] = trail.IsSuccess ? Items(trail.Data) : null,
            ["Notice"] = notice,
            ["Error"] = error,
            ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(),
            ["Posted"] = posted,
        }, status);
    }

    private static async Task<IResult> ConfirmAsync(HttpContext http, string tenantId, string userId, string action, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var user = await api.GetAsync(http.Admin().AccessToken, ApiUserPath(tenantId, userId), ct);
        if (!user.IsSuccess || user.Data is not { } data)
        {
            return Refused(http, user);
        }

        return Confirmation(http, tenantId, userId, data["email"]?.ToString() ?? string.Empty, action, error: null, fieldErrors: null, StatusCodes.Status200OK)
            ?? Results.NotFound();
    }

    /// <summary>What each destructive action will do, in the words the admin confirms.</summary>
    public static IResult? Confirmation(
        HttpContext http, string tenantId, string userId, string email, string action, string? error, IReadOnlyDictionary<string, string>? fieldErrors, int status)
    {
        var (heading, text, button, kind) = action switch
        {
            "disable" => ($"Disable {email}?", $"{email} will not be able to sign in, and every session and token of this account ends now. You can enable the account again later.", "Disable user", "status"),
            "lock" => ($"Lock {email}?", $"{email} will not be able to sign in until unlocked, and every session and token of this account ends now.", "Lock user", "status"),
            "reset" => ($"Reset the password of {email}?", $"The current password of {email} stops working now and their sessions end.", "Reset password", "reset"),
            "mfa-disable" => ($"Disable MFA for {email}?", $"Every second factor and recovery code of {email} is removed and their sessions end; they can then sign in with the password alone until they enrol again. They are told by email.", "Disable MFA", (string?)null),
            "delete" => ($"Delete {email}?", $"{email} is deleted: they cannot sign in, and their sessions, tokens, group memberships and assignments end. This cannot be undone from the console.", "Delete user", "delete"),
            _ => (string.Empty, string.Empty, string.Empty, null),
        };
        if (heading.Length == 0)
        {
            return null;
        }

        return ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = heading, ["Explanation"] = text, ["ButtonText"] = button, ["Kind"] = kind, ["Email"] = email,
            ["Action"] = $"{UserPath(tenantId, userId)}/{action}", ["BackHref"] = UserPath(tenantId, userId),
            ["Error"] = error, ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(),
        }, status);
    }

    /// <summary>
    /// The permissions the API says the admin has in the tenant, or towards one user of it when <paramref name="userId"/>
    /// is given (empty when it will not say).
    /// </summary>
    public static async Task<IReadOnlySet<string>> PermissionsAsync(ConsoleApi api, string token, string tenantId, CancellationToken ct, string? userId = null)
    {
        var forUser = userId is null ? string.Empty : "?user_id=" + Uri.EscapeDataString(userId);
        var answer = await api.GetAsync(token, $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/my-permissions{forUser}", ct);
        return (answer.Data?["permissions"] as JsonArray ?? []).Select(p => p?.ToString() ?? string.Empty).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The API's refusal or error, shown as a page with the same status.</summary>
    public static IResult Refused(HttpContext http, ApiResult result) =>
        ConsolePages.Render<MessagePage>(http, new()
        {
            ["Heading"] = result.Status switch { 403 => "Not allowed", 404 => "Not found", _ => "Something went wrong" },
            ["Text"] = result.Message, ["LinkHref"] = "/console", ["LinkText"] = "Back to the console",
        }, result.Status is >= 400 and < 600 ? result.Status : StatusCodes.Status502BadGateway);

    private static async Task<string> TenantNameAsync(ConsoleApi api, string token, string tenantId, CancellationToken ct)
    {
        // Tenant admins cannot read /admin/tenants; their page then names the tenant by its id.
        var tenant = await api.GetAsync(token, $"api/v1/admin/tenants/{Uri.EscapeDataString(tenantId)}", ct);
        return tenant.Data?["name"]?.ToString() ?? "this tenant";
    }

    private static string? Notice(string? code) => code switch
    {
        "saved" => "Profile saved.",
        "unlocked" => "The user is unlocked.",
        "enabled" => "The user is enabled.",
        "disabled" => "The user is disabled; their sessions ended.",
        "locked" => "The user is locked; their sessions ended.",
        "mfa-disabled" => "MFA is disabled for this user; their second factors are removed.",
        "reset-email" => "A password reset link was sent to the user.",
        "reset-manual" => "The password was set; the user must change it at next sign-in.",
        _ => null,
    };

    internal static IReadOnlyList<JsonNode> Items(JsonNode? data) => (data as JsonArray ?? []).OfType<JsonNode>().ToList();

    private static string? Empty(Microsoft.Extensions.Primitives.StringValues value) => value.ToString() is { Length: > 0 } text ? text : null;
}
