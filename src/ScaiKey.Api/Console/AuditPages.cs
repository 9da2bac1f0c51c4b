using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The tenant's audit log through /api/v1/tenants/{t}/audit-events: its filters (action, actor_id, target_id,
/// since) as a GET form, newest first, paged. An actor may be typed as an email; the console finds its id.
/// </summary>
internal static class AuditPages
{
    private const int PerPage = 50;
    private static readonly string[] Filters = ["action", "actor", "target_id", "since"];

    public static void Map(IEndpointRouteBuilder console) => console.MapGet("/tenants/{tenantId}/audit", ListAsync);

    private static async Task<IResult> ListAsync(HttpContext http, string tenantId, int? page, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var access = DirectoryPages.AccessAsync(api, token, tenantId, ct);
        var query = Filters.ToDictionary(f => f, f => http.Request.Query[f].ToString().Trim(), StringComparer.Ordinal);
        var fieldErrors = new Dictionary<string, string>(StringComparer.Ordinal);

        var actorId = query["actor"];
        if (actorId.Contains('@', StringComparison.Ordinal))
        {
            actorId = await DirectoryPages.UserIdByEmailAsync(api, token, tenantId, actorId, ct) ?? string.Empty;
            if (actorId.Length == 0)
            {
                fieldErrors["actor"] = "No user of this tenant has this email.";
            }
        }

        // The browser's datetime-local has no zone: the label says UTC, so it is sent as UTC.
        var since = query["since"];
        if (DateTime.TryParseExact(since, ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
        {
            since = at.ToString("yyyy-MM-ddTHH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        var parameters = new List<string> { $"per_page={PerPage}", $"page={Math.Max(1, page ?? 1)}" };
        void Add(string name, string value)
        {
            if (value.Length > 0)
            {
                parameters.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }

        Add("action", query["action"]);
        Add("actor_id", actorId);
        Add("target_id", query["target_id"]);
        Add("since", since);

        var result = fieldErrors.Count > 0 ? null
            : await api.GetAsync(token, $"{DirectoryPages.ApiTenantPath(tenantId)}/audit-events?{string.Join("&", parameters)}", ct);
        if (result is { IsSuccess: false, Status: not 422 })
        {
            return UserPages.Refused(http, result);
        }

        if (result is { Status: 422 })
        {
            foreach (var (field, message) in result.FieldErrors())
            {
                fieldErrors[field == "actor_id" ? "actor" : field] = message;
            }
        }

        return ConsolePages.Render<AuditPage>(http, new()
        {
            ["Access"] = await access, ["Query"] = query, ["Events"] = UserPages.Items(result?.Data), ["Paging"] = Paging.From(result?.Json?["pagination"]),
            ["Error"] = fieldErrors.Count > 0 ? "The log was not filtered: correct the fields marked below." : null, ["FieldErrors"] = fieldErrors,
        }, fieldErrors.Count > 0 ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status200OK);
    }
}
