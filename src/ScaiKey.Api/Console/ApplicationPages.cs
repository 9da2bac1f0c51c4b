using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The applications page group's reading pages: the list, the form for a new one, an application (settings,
/// assignments, effective users) and the confirmation before each destructive action. What is offered follows the
/// admin's permissions in the tenant (my-permissions); the API decides anyway.
/// </summary>
internal static class ApplicationPages
{
    public static readonly string[] Types = ["WEB", "SPA", "NATIVE", "SERVICE"];
    public static readonly string[] Grants = ["authorization_code", "refresh_token", "client_credentials", "password"];

    /// <summary>The pages of applications, identity providers, admin clients, SCIM tokens and signing keys.</summary>
    public static void MapApplicationAndCredentialPages(this RouteGroupBuilder console)
    {
        Map(console);
        ApplicationActions.Map(console);
        IdentityProviderPages.Map(console);
        CredentialPages.Map(console);
    }

    private static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/tenants/{tenantId}/applications", ListAsync);
        console.MapGet("/tenants/{tenantId}/applications/new", NewAsync);
        console.MapGet("/tenants/{tenantId}/applications/{applicationId}", ApplicationAsync);
        console.MapGet("/tenants/{tenantId}/applications/{applicationId}/confirm/{action}", ConfirmAsync);
    }

    public static string ListPath(string tenantId) => $"/console/tenants/{Uri.EscapeDataString(tenantId)}/applications";

    public static string PagePath(string tenantId, string applicationId) => $"{ListPath(tenantId)}/{Uri.EscapeDataString(applicationId)}";

    public static string ApiPath(string tenantId, string? applicationId = null) =>
        $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/applications" + (applicationId is null ? string.Empty : "/" + Uri.EscapeDataString(applicationId));

    private static async Task<IResult> ListAsync(HttpContext http, string tenantId, int? page, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var current = page is > 0 ? page.Value : 1;
        var permissions = UserPages.PermissionsAsync(api, token, tenantId, ct);
        var list = await api.GetAsync(token, $"{ApiPath(tenantId)}?per_page=50&page={current}", ct);
        if (!list.IsSuccess)
        {
            return UserPages.Refused(http, list);
        }

        return ConsolePages.Render<ApplicationsPage>(http, new()
        {
            ["TenantId"] = tenantId, ["Applications"] = UserPages.Items(list.Data), ["Paging"] = Paging.From(list.Json?["pagination"]),
            ["CanWrite"] = (await permissions).Contains("directory.write"),
        });
    }

    private static IResult NewAsync(HttpContext http, string tenantId) =>
        NewForm(http, tenantId, posted: null, errors: null, StatusCodes.Status200OK);

    public static IResult NewForm(HttpContext http, string tenantId, IReadOnlyDictionary<string, string?>? posted, IReadOnlyDictionary<string, string>? errors, int status) =>
        ConsolePages.Render<ApplicationNewPage>(http, new()
        {
            ["TenantId"] = tenantId, ["Posted"] = posted, ["FieldErrors"] = errors ?? new Dictionary<string, string>(),
        }, status);

    private static Task<IResult> ApplicationAsync(HttpContext http, string tenantId, string applicationId, string? notice, [FromServices] ConsoleApi api, CancellationToken ct) =>
        ApplicationPageAsync(http, api, tenantId, applicationId, Notice(notice), posted: null, errors: null, StatusCodes.Status200OK, ct);

    /// <summary>The application's page, optionally with a posted form (settings or assignment) and its errors shown again.</summary>
    public static async Task<IResult> ApplicationPageAsync(
        HttpContext http, ConsoleApi api, string tenantId, string applicationId, string? notice,
        IReadOnlyDictionary<string, string?>? posted, IReadOnlyDictionary<string, string>? errors, int status, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var reading = api.GetAsync(token, ApiPath(tenantId, applicationId), ct);
        var permissions = UserPages.PermissionsAsync(api, token, tenantId, ct);
        var assignments = api.GetAsync(token, ApiPath(tenantId, applicationId) + "/assignments?per_page=100", ct);
        var effective = api.GetAsync(token, ApiPath(tenantId, applicationId) + "/effective-users?per_page=100", ct);
        var groups = api.GetAsync(token, $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/groups?per_page=100", ct);
        var application = await reading;
        if (!application.IsSuccess || application.Data is not { } data)
        {
            return UserPages.Refused(http, application);
        }

        var users = await effective;
        return ConsolePages.Render<ApplicationPage>(http, new()
        {
            ["TenantId"] = tenantId, ["Application"] = data, ["Permissions"] = await permissions,
            ["Assignments"] = UserPages.Items((await assignments).Data),
            ["EffectiveUsers"] = UserPages.Items(users.Data), ["EffectiveTotal"] = Paging.From(users.Json?["pagination"]).TotalItems,
            ["Groups"] = UserPages.Items((await groups).Data),
            ["Notice"] = notice, ["Posted"] = posted, ["FieldErrors"] = errors ?? new Dictionary<string, string>(),
        }, status);
    }

    private static async Task<IResult> ConfirmAsync(
        HttpContext http, string tenantId, string applicationId, string action, string? assignment, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var application = await api.GetAsync(http.Admin().AccessToken, ApiPath(tenantId, applicationId), ct);
        if (!application.IsSuccess || application.Data is not { } data)
        {
            return UserPages.Refused(http, application);
        }

        var name = data["name"]?.ToString() ?? applicationId;
        string? who = null;
        if (action == "unassign")
        {
            // The assignment and whom it names come from the API, never from the link: a link can carry any words
            // and any id, and the page must say what the button will really remove.
            var found = await AssignmentAsync(http, api, tenantId, applicationId, assignment, ct);
            if (found is null)
            {
                return UserPages.Refused(http, new ApiResult(StatusCodes.Status404NotFound, new JsonObject { ["detail"] = "This assignment was not found." }, null));
            }

            who = found;
        }

        var back = PagePath(tenantId, applicationId);
        var (heading, text, button, target) = action switch
        {
            "rotate" => ($"Rotate the secret of {name}?", $"A new client secret is created and shown once. The current secret of {name} stops working at once: every server using it must be given the new one.", "Rotate secret", back + "/secret"),
            "delete" => ($"Delete {name}?", $"{name} is deleted with its assignments; its own tokens and its users' access and refresh tokens stop working at once. This cannot be undone.", "Delete application", back + "/delete"),
            "unassign" when assignment is { Length: > 0 } => ($"Remove {who} from {name}?", $"{who} is no longer assigned to {name}. If the application requires assignment, the users it covered get no new codes or tokens unless assigned otherwise.", "Remove assignment", $"{back}/assignments/{Uri.EscapeDataString(assignment)}/delete"),
            _ => (string.Empty, string.Empty, string.Empty, string.Empty),
        };
        return heading.Length == 0 ? Results.NotFound() : ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = heading, ["Explanation"] = text, ["ButtonText"] = button, ["Action"] = target, ["BackHref"] = back,
        });
    }

    /// <summary>Whom the application's assignment names (a user's email or a group's name), or null when it has no such assignment.</summary>
    private static async Task<string?> AssignmentAsync(HttpContext http, ConsoleApi api, string tenantId, string applicationId, string? assignmentId, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var listed = await api.GetAsync(token, ApiPath(tenantId, applicationId) + "/assignments?per_page=100", ct);
        var found = UserPages.Items(listed.Data).FirstOrDefault(a => assignmentId is { Length: > 0 } && a["id"]?.ToString() == assignmentId);
        if (found is null)
        {
            return null;
        }

        var tenantPath = $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}";
        if (found["user_id"]?.ToString() is { } userId)
        {
            var user = await api.GetAsync(token, $"{tenantPath}/users/{Uri.EscapeDataString(userId)}", ct);
            return user.Data?["email"]?.ToString() ?? "user " + userId;
        }

        var groupId = found["group_id"]?.ToString() ?? string.Empty;
        var group = await api.GetAsync(token, $"{tenantPath}/groups/{Uri.EscapeDataString(groupId)}", ct);
        return "group " + (group.Data?["name"]?.ToString() ?? groupId);
    }

    private static string? Notice(string? code) => code switch
    {
        "created" => "The application is registered.",
        "saved" => "The settings are saved.",
        "assigned" => "The assignment is added.",
        "unassigned" => "The assignment is removed.",
        _ => null,
    };

    /// <summary>The form's settings as the API's body: the whole form is sent, so what is unticked is turned off.</summary>
    public static JsonObject Body(IFormCollection form, bool create)
    {
        var body = new JsonObject
        {
            ["name"] = FormFields.Text(form, "name"),
            ["redirect_uris"] = FormFields.Lines(form["redirect_uris"]),
            ["first_party"] = FormFields.Checked(form, "first_party"),
            ["consent_required"] = FormFields.Checked(form, "consent_required"),
            ["assignment_required"] = FormFields.Checked(form, "assignment_required"),
        };
        var grants = Grants.Where(g => FormFields.Checked(form, "grant_" + g)).ToList();

        // A new application with no grant ticked gets its type's defaults.
        if (!create || grants.Count > 0)
        {
            body["grant_types"] = new JsonArray(grants.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray());
        }

        if (create)
        {
            body["type"] = FormFields.Text(form, "type");
        }

        return body;
    }
}
