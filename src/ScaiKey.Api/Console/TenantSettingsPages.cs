using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// A tenant's policies (password, lockout, MFA, approval, redirect URIs) through the admin API's PATCH, which merges
/// settings field by field: only the fields of this form are sent, so settings it does not show (federation) are kept.
/// The tenant API has no ETag, so the form carries the version (updated_at) it was loaded at; when the tenant changed
/// since, both versions are shown and nothing is saved until the admin saves theirs again against the current one.
/// </summary>
internal static class TenantSettingsPages
{
    public static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/tenants/{tenantId}/settings", async (HttpContext http, string tenantId, [FromServices] ConsoleApi api, string? notice, CancellationToken ct) =>
        {
            var tenant = await api.GetAsync(http.Admin().AccessToken, ApiTenantPath(tenantId), ct);
            return tenant.IsSuccess && tenant.Data is { } data
                ? Page(http, tenantId, data, TenantSettingsForm.Read(data["settings"]), notice == "saved" ? "Settings saved." : null, null, null, StatusCodes.Status200OK)
                : UserPages.Refused(http, tenant);
        });
        console.MapPost("/tenants/{tenantId}/settings", SaveAsync);
    }

    private static string ApiTenantPath(string tenantId) => $"api/v1/admin/tenants/{Uri.EscapeDataString(tenantId)}";

    private static string SettingsPath(string tenantId) => $"/console/tenants/{Uri.EscapeDataString(tenantId)}/settings";

    private static async Task<IResult> SaveAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var mine = TenantSettingsForm.Posted(form);
        var token = http.Admin().AccessToken;
        var current = await api.GetAsync(token, ApiTenantPath(tenantId), ct);
        if (!current.IsSuccess || current.Data is not { } data)
        {
            return UserPages.Refused(http, current);
        }

        var theirs = TenantSettingsForm.Read(data["settings"]);
        if (form["version"].ToString() != Version(data) && TenantSettingsForm.Fields.Any(f => mine.GetValueOrDefault(f.Name) != theirs.GetValueOrDefault(f.Name)))
        {
            return Conflict(http, tenantId, mine, data);
        }

        // If-Match with the ETag just read: a change landing between that read and this write is a 412, shown as the
        // same side-by-side page, never overwritten.
        var result = await api.SendAsync(HttpMethod.Patch, token, ApiTenantPath(tenantId),
            new JsonObject { ["settings"] = TenantSettingsForm.Body(mine) }, ifMatch: current.ETag, ct);
        if (result.IsSuccess)
        {
            return Results.Redirect(SettingsPath(tenantId) + "?notice=saved");
        }

        if (result.Status == StatusCodes.Status412PreconditionFailed)
        {
            var now = await api.GetAsync(token, ApiTenantPath(tenantId), ct);
            return now.IsSuccess && now.Data is { } latest ? Conflict(http, tenantId, mine, latest) : UserPages.Refused(http, now);
        }

        return result.Status == 422
            ? Page(http, tenantId, data, mine, null, "The settings were not saved: correct the fields marked below.", TenantSettingsForm.Errors(result),
                StatusCodes.Status422UnprocessableEntity)
            : UserPages.Refused(http, result);
    }

    private static IResult Conflict(HttpContext http, string tenantId, IReadOnlyDictionary<string, string> mine, JsonNode current) =>
        ConsolePages.Render<TenantSettingsConflictPage>(http, new()
        {
            ["Mine"] = mine, ["Current"] = TenantSettingsForm.Read(current["settings"]), ["Version"] = Version(current),
            ["Action"] = SettingsPath(tenantId), ["BackHref"] = SettingsPath(tenantId),
        }, StatusCodes.Status409Conflict);

    private static IResult Page(
        HttpContext http, string tenantId, JsonNode tenant, IReadOnlyDictionary<string, string> values, string? notice, string? error,
        IReadOnlyDictionary<string, string>? fieldErrors, int status) =>
        ConsolePages.Render<TenantSettingsPage>(http, new()
        {
            ["TenantId"] = tenantId, ["TenantName"] = tenant["name"]?.ToString() ?? tenantId, ["Version"] = Version(tenant),
            ["Values"] = values, ["Notice"] = notice, ["Error"] = error, ["FieldErrors"] = fieldErrors ?? new Dictionary<string, string>(),
        }, status);

    /// <summary>The tenant's version as the API shows it: its last update, or its creation.</summary>
    private static string Version(JsonNode tenant) => (tenant["updated_at"] ?? tenant["created_at"])?.ToString() ?? string.Empty;
}

/// <summary>The settings form's fields as paths into the tenant's settings, and their conversions to and from the API.</summary>
internal static class TenantSettingsForm
{
    public static readonly TenantSettingsPage.Field[] Fields =
    [
        new("password_policy.min_length", "Minimum password length", "number"),
        new("password_policy.max_length", "Maximum password length", "number"),
        new("password_policy.block_common_passwords", "Refuse common passwords", "checkbox"),
        new("password_policy.disallow_email_local_part", "Refuse passwords containing the email's name", "checkbox"),
        new("lockout_policy.max_failed_attempts", "Failed sign-ins before the account locks", "number"),
        new("lockout_policy.lockout_duration_minutes", "Lockout duration in minutes (0: until an admin unlocks)", "number"),
        new("mfa_policy.required", "Require a second factor for every user", "checkbox"),
        new("require_approval", "New users need an admin's approval", "checkbox"),
        new("allowed_redirect_uris", "Allowed redirect URIs (one per line)", "lines"),
        new("branding.display_name", "Name shown on the sign-in pages (empty: the tenant's name)", "text"),
        new("branding.logo_url", "Logo URL (https; empty: no logo)", "text"),
        new("branding.primary_color", "Primary colour, #rrggbb (empty: the default)", "text"),
    ];

    public static Dictionary<string, string> Read(JsonNode? settings)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in Fields)
        {
            var node = field.Name.Split('.').Aggregate(settings, (n, part) => n?[part]);
            values[field.Name] = field.Kind switch
            {
                "lines" => string.Join("\n", (node as JsonArray ?? []).Select(u => u?.ToString())),
                "checkbox" => node?.GetValueKind() == System.Text.Json.JsonValueKind.True ? "true" : "false",
                _ => node?.ToString() ?? string.Empty,
            };
        }

        return values;
    }

    public static Dictionary<string, string> Posted(IFormCollection form) => Fields.ToDictionary(
        f => f.Name,
        f => f.Kind switch
        {
            "checkbox" => form[f.Name].ToString() == "true" ? "true" : "false",
            "lines" => string.Join("\n", form[f.Name].ToString().Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)),
            _ => form[f.Name].ToString().Trim(),
        },
        StringComparer.Ordinal);

    /// <summary>The settings object to PATCH; a number that is not one goes as typed, for the API's 422 to name it.</summary>
    public static JsonObject Body(IReadOnlyDictionary<string, string> values)
    {
        var settings = new JsonObject();
        foreach (var field in Fields)
        {
            var value = values.GetValueOrDefault(field.Name) ?? string.Empty;
            JsonNode? node = field.Kind switch
            {
                "checkbox" => JsonValue.Create(value == "true"),
                "lines" => new JsonArray(value.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (JsonNode?)JsonValue.Create(l)).ToArray()),
                // An emptied text field clears the setting (null), rather than sending "" for the API to refuse.
                "text" => value.Length == 0 ? null : JsonValue.Create(value),
                _ => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : JsonValue.Create(value),
            };
            var parts = field.Name.Split('.');
            var parent = settings;
            foreach (var part in parts[..^1])
            {
                parent = parent[part] as JsonObject ?? (JsonObject)(parent[part] = new JsonObject());
            }

            parent[parts[^1]] = node;
        }

        return settings;
    }

    /// <summary>A 422's messages by the form field its loc names (body.settings.password_policy.min_length → that field; list indexes dropped).</summary>
    public static Dictionary<string, string> Errors(ApiResult result)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var error in result.Json?["detail"] as JsonArray ?? [])
        {
            var loc = (error?["loc"] as JsonArray ?? []).Select(p => p?.ToString() ?? string.Empty).ToList();
            var path = loc.Count > 2 && loc[0] == "body" && loc[1] == "settings"
                ? string.Join(".", loc.Skip(2).Where(p => !int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
                : string.Empty;
            var field = Fields.Any(f => f.Name == path) ? path : string.Empty;
            var message = error?["msg"]?.ToString() ?? "Invalid value.";
            errors[field] = errors.TryGetValue(field, out var earlier) ? earlier + " " + message : message;
        }

        return errors;
    }
}
