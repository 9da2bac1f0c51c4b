using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The applications page group's changes: each a form POST (token checked by the gate) turned into one call of the
/// public API with the admin's token. Secrets the API returns (on create and rotation) are rendered in that response
/// only; everything else redirects back (POST-redirect-GET) or shows the form again with the API's errors.
/// </summary>
internal static class ApplicationActions
{
    public static void Map(IEndpointRouteBuilder console)
    {
        var one = "/tenants/{tenantId}/applications/{applicationId}";
        console.MapPost("/tenants/{tenantId}/applications", CreateAsync);
        console.MapPost(one, UpdateAsync);
        console.MapPost(one + "/secret", RotateAsync);
        console.MapPost(one + "/delete", DeleteAsync);
        console.MapPost(one + "/assignments", AssignAsync);
        console.MapPost(one + "/assignments/{assignmentId}/delete", UnassignAsync);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, ApplicationPages.ApiPath(tenantId), ApplicationPages.Body(form, create: true), ifMatch: null, ct);
        if (result.Status == 422)
        {
            return ApplicationPages.NewForm(http, tenantId, FormFields.Posted(form, []), FormFields.Errors(result), StatusCodes.Status422UnprocessableEntity);
        }

        if (!result.IsSuccess || result.Data is not { } created)
        {
            return UserPages.Refused(http, result);
        }

        var id = created["id"]?.ToString() ?? string.Empty;
        if (created["client_secret"]?.ToString() is { Length: > 0 } secret)
        {
            return Secret(http, "Application registered", $"{created["name"]} is registered with client id {created["client_id"]}. Give its server this client secret.",
                secret, ApplicationPages.PagePath(tenantId, id));
        }

        return Results.Redirect(ApplicationPages.PagePath(tenantId, id) + "?notice=created");
    }

    private static async Task<IResult> UpdateAsync(HttpContext http, string tenantId, string applicationId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var result = await api.SendAsync(HttpMethod.Patch, http.Admin().AccessToken, ApplicationPages.ApiPath(tenantId, applicationId),
            ApplicationPages.Body(form, create: false), ifMatch: null, ct);
        if (result.Status == 422)
        {
            return await ApplicationPages.ApplicationPageAsync(http, api, tenantId, applicationId, notice: null, FormFields.Posted(form, []),
                FormFields.Errors(result), StatusCodes.Status422UnprocessableEntity, ct);
        }

        return result.IsSuccess ? Back(tenantId, applicationId, "saved") : UserPages.Refused(http, result);
    }

    private static async Task<IResult> RotateAsync(HttpContext http, string tenantId, string applicationId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, ApplicationPages.ApiPath(tenantId, applicationId) + "/secret", body: null, ifMatch: null, ct);
        if (!result.IsSuccess || result.Data?["client_secret"]?.ToString() is not { Length: > 0 } secret)
        {
            return UserPages.Refused(http, result);
        }

        return Secret(http, "New client secret", $"The secret of client {result.Data["client_id"]} is replaced; the previous one no longer works.",
            secret, ApplicationPages.PagePath(tenantId, applicationId));
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string tenantId, string applicationId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken, ApplicationPages.ApiPath(tenantId, applicationId), body: null, ifMatch: null, ct);
        return result.IsSuccess ? Results.Redirect(ApplicationPages.ListPath(tenantId)) : UserPages.Refused(http, result);
    }

    /// <summary>
    /// A user is named by email (what an admin knows) and found through the users list's search; a group is chosen
    /// from the tenant's groups. Either way the API's assignment route does the rest.
    /// </summary>
    private static async Task<IResult> AssignAsync(HttpContext http, string tenantId, string applicationId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var token = http.Admin().AccessToken;
        var email = FormFields.Text(form, "user_email");
        var groupId = FormFields.Text(form, "group_id");
        JsonObject body;
        if (email.Length > 0)
        {
            var found = await api.GetAsync(token, $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/users?search={Uri.EscapeDataString(email)}&per_page=20", ct);
            if (!found.IsSuccess)
            {
                return UserPages.Refused(http, found);
            }

            var user = UserPages.Items(found.Data).FirstOrDefault(u => string.Equals(u["email"]?.ToString(), email, StringComparison.OrdinalIgnoreCase));
            if (user is null)
            {
                return await AgainAsync(http, api, tenantId, applicationId, form, new() { ["user_email"] = "No user of this tenant has this email." }, ct);
            }

            body = new JsonObject { ["user_id"] = user["id"]?.ToString() };
        }
        else if (groupId.Length > 0)
        {
            body = new JsonObject { ["group_id"] = groupId };
        }
        else
        {
            return await AgainAsync(http, api, tenantId, applicationId, form, new() { ["user_email"] = "Give a user's email or choose a group." }, ct);
        }

        var result = await api.SendAsync(HttpMethod.Post, token, ApplicationPages.ApiPath(tenantId, applicationId) + "/assignments", body, ifMatch: null, ct);
        if (result.Status is 409 or 422)
        {
            var errors = FormFields.Errors(result);
            var message = string.Join(" ", errors.Values);
            return await AgainAsync(http, api, tenantId, applicationId, form, new() { [email.Length > 0 ? "user_email" : "group_id"] = message }, ct);
        }

        return result.IsSuccess ? Back(tenantId, applicationId, "assigned") : UserPages.Refused(http, result);
    }

    private static async Task<IResult> UnassignAsync(HttpContext http, string tenantId, string applicationId, string assignmentId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken,
            $"{ApplicationPages.ApiPath(tenantId, applicationId)}/assignments/{Uri.EscapeDataString(assignmentId)}", body: null, ifMatch: null, ct);
        return result.IsSuccess ? Back(tenantId, applicationId, "unassigned") : UserPages.Refused(http, result);
    }

    private static Task<IResult> AgainAsync(
        HttpContext http, ConsoleApi api, string tenantId, string applicationId, IFormCollection form, Dictionary<string, string> errors, CancellationToken ct) =>
        ApplicationPages.ApplicationPageAsync(http, api, tenantId, applicationId, notice: null, FormFields.Posted(form, []), errors, StatusCodes.Status422UnprocessableEntity, ct);

    /// <summary>A secret the API returned once: in this response only (no-store, no redirect that could carry it).</summary>
    public static IResult Secret(HttpContext http, string heading, string text, string secret, string back, string label = "Client secret:") =>
        ConsolePages.Render<SecretPage>(http, new()
        {
            ["Heading"] = heading, ["Text"] = text, ["Label"] = label, ["Secret"] = secret, ["BackHref"] = back,
        });

    private static IResult Back(string tenantId, string applicationId, string notice) =>
        Results.Redirect($"{ApplicationPages.PagePath(tenantId, applicationId)}?notice={notice}");
}
