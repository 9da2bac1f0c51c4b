using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The users page group's changes: each a form POST (token checked by the gate) turned into one call of the public
/// API with the admin's token, then a redirect back to the user (POST-redirect-GET), or the page again with the
/// API's errors next to the fields they name. A refusal from the API is shown as it is.
/// </summary>
internal static class UserActions
{
    public static void Map(IEndpointRouteBuilder console)
    {
        var user = "/tenants/{tenantId}/users/{userId}";
        console.MapPost(user + "/profile", ProfileAsync);
        console.MapPost(user + "/unlock", (HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            SimpleAsync(http, api, tenantId, userId, HttpMethod.Post, "/unlock", null, "unlocked", ct));
        console.MapPost(user + "/enable", (HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            SimpleAsync(http, api, tenantId, userId, HttpMethod.Put, "/status", new JsonObject { ["status"] = "ACTIVE" }, "enabled", ct));
        console.MapPost(user + "/disable", (HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            StatusAsync(http, api, tenantId, userId, "disable", "DISABLED", "disabled", ct));
        console.MapPost(user + "/lock", (HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            StatusAsync(http, api, tenantId, userId, "lock", "LOCKED", "locked", ct));
        console.MapPost(user + "/mfa-disable", (HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct) =>
            SimpleAsync(http, api, tenantId, userId, HttpMethod.Post, "/mfa/disable", null, "mfa-disabled", ct));
        console.MapPost(user + "/reset", ResetAsync);
        console.MapPost(user + "/delete", DeleteAsync);
    }

    private static async Task<IResult> SimpleAsync(
        HttpContext http, ConsoleApi api, string tenantId, string userId, HttpMethod method, string suffix, JsonObject? body, string notice, CancellationToken ct)
    {
        var result = await api.SendAsync(method, http.Admin().AccessToken, UserPages.ApiUserPath(tenantId, userId) + suffix, body ?? new JsonObject(), ifMatch: null, ct);
        return result.IsSuccess ? Back(tenantId, userId, notice) : UserPages.Refused(http, result);
    }

    private static async Task<IResult> StatusAsync(
        HttpContext http, ConsoleApi api, string tenantId, string userId, string action, string status, string notice, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var body = new JsonObject { ["status"] = status, ["terminate_sessions"] = true };
        if (form["reason"].ToString() is { Length: > 0 } reason)
        {
            body["reason"] = reason;
        }

        var result = await api.SendAsync(HttpMethod.Put, http.Admin().AccessToken, UserPages.ApiUserPath(tenantId, userId) + "/status", body, ifMatch: null, ct);
        if (result.Status == 422)
        {
            return await ConfirmAgainAsync(http, api, tenantId, userId, action, result, ct);
        }

        return result.IsSuccess ? Back(tenantId, userId, notice) : UserPages.Refused(http, result);
    }

    private static async Task<IResult> ProfileAsync(HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var posted = UserPage.ProfileFields.ToDictionary(f => f.Name, f => (string?)form[f.Name].ToString(), StringComparer.Ordinal);
        var body = new JsonObject();
        foreach (var (name, value) in posted)
        {
            // An emptied optional field clears it; email, locale and time zone are never sent empty (the API decides).
            body[name] = string.IsNullOrEmpty(value) && name is not ("email" or "locale" or "timezone") ? null : value;
        }

        // Without the version the form was loaded at, the save could overwrite someone else's change: refuse it.
        var etag = form["etag"].ToString();
        if (etag.Length == 0)
        {
            return await UserPages.UserPageAsync(http, api, tenantId, userId, null, "The form did not say which version it edits; reload the page and try again.",
                null, posted, StatusCodes.Status400BadRequest, ct);
        }

        var token = http.Admin().AccessToken;
        var result = await api.SendAsync(HttpMethod.Patch, token, UserPages.ApiUserPath(tenantId, userId), body, etag, ct);
        if (result.IsSuccess)
        {
            return Back(tenantId, userId, "saved");
        }

        if (result.Status == StatusCodes.Status412PreconditionFailed)
        {
            var current = await api.GetAsync(token, UserPages.ApiUserPath(tenantId, userId), ct);
            if (current.Data is { } data)
            {
                return ConsolePages.Render<ConflictPage>(http, new()
                {
                    ["Mine"] = posted, ["Current"] = data, ["ETag"] = current.ETag,
                    ["Action"] = UserPages.UserPath(tenantId, userId) + "/profile", ["BackHref"] = UserPages.UserPath(tenantId, userId),
                }, StatusCodes.Status409Conflict);
            }
        }

        if (result.Status == 422)
        {
            return await UserPages.UserPageAsync(http, api, tenantId, userId, null, "The profile was not saved: correct the fields marked below.",
                result.FieldErrors(), posted, StatusCodes.Status422UnprocessableEntity, ct);
        }

        return UserPages.Refused(http, result);
    }

    private static async Task<IResult> ResetAsync(HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var method = form["method"].ToString() is { Length: > 0 } m ? m : "EMAIL";
        var body = new JsonObject { ["method"] = method };
        if (method == "MANUAL")
        {
            body["new_password"] = form["new_password"].ToString();
        }

        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, UserPages.ApiUserPath(tenantId, userId) + "/password/reset", body, ifMatch: null, ct);
        if (result.Status == 422)
        {
            return await ConfirmAgainAsync(http, api, tenantId, userId, "reset", result, ct);
        }

        if (!result.IsSuccess)
        {
            return UserPages.Refused(http, result);
        }

        if (result.Data?["temporary_password"]?.ToString() is { Length: > 0 } temporary)
        {
            // Rendered in this response only (no-store, no redirect that could carry it in a URL).
            return ConsolePages.Render<SecretPage>(http, new()
            {
                ["Heading"] = "Temporary password", ["Text"] = "The password was reset. Give the user this temporary password; they must change it when they sign in.",
                ["Label"] = "Temporary password:", ["Secret"] = temporary, ["BackHref"] = UserPages.UserPath(tenantId, userId),
            });
        }

        return Back(tenantId, userId, method == "EMAIL" ? "reset-email" : "reset-manual");
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string tenantId, string userId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var typed = form["confirm_email"].ToString();
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken,
            $"{UserPages.ApiUserPath(tenantId, userId)}?confirm_email={Uri.EscapeDataString(typed)}", body: null, ifMatch: null, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect(UserPages.UsersPath(tenantId));
        }

        // A mismatch is the API's 412 (or a 422 for an empty one): shown next to the field, nothing deleted.
        if (result.Status is 412 or 422)
        {
            return await ConfirmAgainAsync(http, api, tenantId, userId, "delete", result, ct, field: "confirm_email");
        }

        return UserPages.Refused(http, result);
    }

    /// <summary>The confirmation page again, with the API's errors next to the fields they name.</summary>
    private static async Task<IResult> ConfirmAgainAsync(
        HttpContext http, ConsoleApi api, string tenantId, string userId, string action, ApiResult result, CancellationToken ct, string? field = null)
    {
        var user = await api.GetAsync(http.Admin().AccessToken, UserPages.ApiUserPath(tenantId, userId), ct);
        var errors = result.FieldErrors().ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (field is not null && !errors.ContainsKey(field))
        {
            errors[field] = result.Message;
        }

        return UserPages.Confirmation(http, tenantId, userId, user.Data?["email"]?.ToString() ?? string.Empty, action,
            errors.GetValueOrDefault(string.Empty), errors, StatusCodes.Status422UnprocessableEntity) ?? UserPages.Refused(http, result);
    }

    private static IResult Back(string tenantId, string userId, string notice) =>
        Results.Redirect($"{UserPages.UserPath(tenantId, userId)}?notice={notice}");
}
