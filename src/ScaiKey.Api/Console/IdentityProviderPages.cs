using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The identity providers page group: list, a form per type with the config keys the API defines, edit, delete.
/// Secret keys are write-only both ways: the API never returns them (it names the ones set in secret_fields), and
/// the console never fills or echoes them; an empty secret box is left out of the PATCH, which the API merges key
/// by key, so the stored secret stays.
/// </summary>
internal static class IdentityProviderPages
{
    public static void Map(IEndpointRouteBuilder console)
    {
        var list = "/tenants/{tenantId}/identity-providers";
        var one = list + "/{providerId}";
        console.MapGet(list, ListAsync);
        console.MapGet(list + "/new", NewAsync);
        console.MapPost(list, CreateAsync);
        console.MapGet(one, ProviderAsync);
        console.MapPost(one, UpdateAsync);
        console.MapGet(one + "/confirm/delete", ConfirmDeleteAsync);
        console.MapPost(one + "/delete", DeleteAsync);
    }

    private static string ListPath(string tenantId) => $"/console/tenants/{Uri.EscapeDataString(tenantId)}/identity-providers";

    private static string PagePath(string tenantId, string providerId) => $"{ListPath(tenantId)}/{Uri.EscapeDataString(providerId)}";

    private static string ApiPath(string tenantId, string? providerId = null) =>
        $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}/identity-providers" + (providerId is null ? string.Empty : "/" + Uri.EscapeDataString(providerId));

    private static async Task<IResult> ListAsync(HttpContext http, string tenantId, int? page, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var permissions = UserPages.PermissionsAsync(api, token, tenantId, ct);
        var list = await api.GetAsync(token, $"{ApiPath(tenantId)}?per_page=50&page={(page is > 0 ? page.Value : 1)}", ct);
        if (!list.IsSuccess)
        {
            return UserPages.Refused(http, list);
        }

        return ConsolePages.Render<IdentityProvidersPage>(http, new()
        {
            ["TenantId"] = tenantId, ["Providers"] = UserPages.Items(list.Data), ["Paging"] = Paging.From(list.Json?["pagination"]),
            ["CanWrite"] = (await permissions).Contains("directory.write"),
        });
    }

    private static IResult NewAsync(HttpContext http, string tenantId, string? type) =>
        ProviderFields.Types.Contains(type) ? Form(http, tenantId, type!, provider: null, canWrite: true, null, null, null, StatusCodes.Status200OK) : Results.Redirect(ListPath(tenantId));

    private static async Task<IResult> ProviderAsync(HttpContext http, string tenantId, string providerId, string? notice, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var token = http.Admin().AccessToken;
        var permissions = UserPages.PermissionsAsync(api, token, tenantId, ct);
        var provider = await api.GetAsync(token, ApiPath(tenantId, providerId), ct);
        if (!provider.IsSuccess || provider.Data is not { } data)
        {
            return UserPages.Refused(http, provider);
        }

        var text = notice switch { "created" => "The identity provider is created.", "saved" => "The identity provider is saved.", _ => null };
        return Form(http, tenantId, data["type"]?.ToString() ?? string.Empty, data, (await permissions).Contains("directory.write"), text, null, null, StatusCodes.Status200OK);
    }

    private static IResult Form(
        HttpContext http, string tenantId, string type, JsonNode? provider, bool canWrite, string? notice,
        IReadOnlyDictionary<string, string?>? posted, IReadOnlyDictionary<string, string>? errors, int status) =>
        ConsolePages.Render<IdentityProviderPage>(http, new()
        {
            ["TenantId"] = tenantId, ["Type"] = type, ["Provider"] = provider, ["CanWrite"] = canWrite, ["Notice"] = notice,
            ["Posted"] = posted, ["FieldErrors"] = errors ?? new Dictionary<string, string>(),
        }, status);

    private static async Task<IResult> CreateAsync(HttpContext http, string tenantId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var type = FormFields.Text(form, "type");
        if (!ProviderFields.Types.Contains(type))
        {
            return Results.Redirect(ListPath(tenantId));
        }

        var body = new JsonObject
        {
            ["name"] = FormFields.Text(form, "name"), ["type"] = type, ["enabled"] = FormFields.Checked(form, "enabled"),
            ["config"] = Config(form, type, current: null),
        };
        var result = await api.SendAsync(HttpMethod.Post, http.Admin().AccessToken, ApiPath(tenantId), body, ifMatch: null, ct);
        if (result.Status is 409 or 422)
        {
            return Form(http, tenantId, type, provider: null, canWrite: true, notice: null, Posted(form, type), FormFields.Errors(result), StatusCodes.Status422UnprocessableEntity);
        }

        return result.IsSuccess && result.Data?["id"]?.ToString() is { } id
            ? Results.Redirect(PagePath(tenantId, id) + "?notice=created")
            : UserPages.Refused(http, result);
    }

    private static async Task<IResult> UpdateAsync(HttpContext http, string tenantId, string providerId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var token = http.Admin().AccessToken;

        // The current config tells a box emptied (remove the key) from one never set (leave it out).
        var current = await api.GetAsync(token, ApiPath(tenantId, providerId), ct);
        if (!current.IsSuccess || current.Data is not { } provider)
        {
            return UserPages.Refused(http, current);
        }

        var type = provider["type"]?.ToString() ?? string.Empty;
        var body = new JsonObject
        {
            ["name"] = FormFields.Text(form, "name"), ["enabled"] = FormFields.Checked(form, "enabled"),
            ["config"] = Config(form, type, provider["config"] as JsonObject ?? []),
        };
        var result = await api.SendAsync(HttpMethod.Patch, token, ApiPath(tenantId, providerId), body, ifMatch: null, ct);
        if (result.Status is 409 or 422)
        {
            return Form(http, tenantId, type, provider, canWrite: true, notice: null, Posted(form, type), FormFields.Errors(result), StatusCodes.Status422UnprocessableEntity);
        }

        return result.IsSuccess ? Results.Redirect(PagePath(tenantId, providerId) + "?notice=saved") : UserPages.Refused(http, result);
    }

    private static async Task<IResult> ConfirmDeleteAsync(HttpContext http, string tenantId, string providerId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var provider = await api.GetAsync(http.Admin().AccessToken, ApiPath(tenantId, providerId), ct);
        if (!provider.IsSuccess || provider.Data is not { } data)
        {
            return UserPages.Refused(http, provider);
        }

        var name = data["name"]?.ToString() ?? providerId;
        return ConsolePages.Render<ConfirmPage>(http, new()
        {
            ["Heading"] = $"Delete {name}?",
            ["Explanation"] = $"{name} is deleted with its settings and secrets; nobody can sign in through it any more. The API refuses while users are still linked to it.",
            ["ButtonText"] = "Delete identity provider", ["Action"] = PagePath(tenantId, providerId) + "/delete", ["BackHref"] = PagePath(tenantId, providerId),
        });
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string tenantId, string providerId, [FromServices] ConsoleApi api, CancellationToken ct)
    {
        var result = await api.SendAsync(HttpMethod.Delete, http.Admin().AccessToken, ApiPath(tenantId, providerId), body: null, ifMatch: null, ct);
        return result.IsSuccess ? Results.Redirect(ListPath(tenantId)) : UserPages.Refused(http, result);
    }

    /// <summary>
    /// The form's config keys as the API's config object. New: only what is filled in. Edit (<paramref name="current"/>):
    /// an emptied box removes its key (null), an unchanged one is sent as it is (the API skips it), and a secret is
    /// sent only when typed, or as null when its "remove" box is ticked.
    /// </summary>
    private static JsonObject Config(IFormCollection form, string type, JsonObject? current)
    {
        var config = new JsonObject();
        foreach (var field in ProviderFields.For(type))
        {
            var text = FormFields.Text(form, field.Key);
            var wasSet = current?.ContainsKey(field.Key) == true;
            switch (field.Kind)
            {
                case ProviderFieldKind.Flag:
                    var ticked = FormFields.Checked(form, field.Key);
                    if (ticked || wasSet)
                    {
                        config[field.Key] = ticked;
                    }

                    break;
                case ProviderFieldKind.Secret or ProviderFieldKind.SecretMultiline:
                    if (text.Length > 0)
                    {
                        config[field.Key] = text;
                    }
                    else if (current is not null && FormFields.Checked(form, "remove_" + field.Key))
                    {
                        config[field.Key] = null;
                    }

                    break;
                default:
                    if (text.Length > 0)
                    {
                        config[field.Key] = field.Kind switch
                        {
                            ProviderFieldKind.List => FormFields.Lines(text, splitOnSpaces: true),

                            // Not a number: sent as typed, so the API's own error names the field.
                            ProviderFieldKind.Number => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : text,
                            _ => text,
                        };
                    }
                    else if (wasSet)
                    {
                        config[field.Key] = null;
                    }

                    break;
            }
        }

        return config;
    }

    /// <summary>The posted form without its secrets: a secret typed into a refused form is not sent back to the browser.</summary>
    private static Dictionary<string, string?> Posted(IFormCollection form, string type) =>
        FormFields.Posted(form, ProviderFields.For(type).Where(f => f.IsSecret).Select(f => f.Key));
}
