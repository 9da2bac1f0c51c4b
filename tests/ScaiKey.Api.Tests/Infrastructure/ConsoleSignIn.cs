using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// What the ScaiKey console and command line do to act as a signed-in admin user: the code flow with PKCE through
/// the built-in public client <c>scaikey-console</c>, signing in on the hosted login page of the tenant named by the
/// <c>tenant</c> parameter.
/// </summary>
public static class ConsoleSignIn
{
    public const string ClientId = "scaikey-console";
    public const string RedirectUri = "http://127.0.0.1:8400/callback";

    public static string AuthorizeUrl(string tenantSlug, string challenge, string scope = "openid offline_access scaikey.admin", string state = "console-state") =>
        "/connect/authorize?" + string.Join('&',
            $"client_id={ClientId}", "response_type=code", $"redirect_uri={Uri.EscapeDataString(RedirectUri)}",
            $"scope={Uri.EscapeDataString(scope)}", $"state={state}", $"tenant={Uri.EscapeDataString(tenantSlug)}",
            $"code_challenge={challenge}", "code_challenge_method=S256");

    /// <summary>The token response for a user of the tenant <paramref name="tenantSlug"/>, signed in with its password.</summary>
    public static async Task<JsonNode> TokensAsync(ScaiKeyApp app, string tenantSlug, string email, string password, string scope = "openid offline_access scaikey.admin")
    {
        using var browser = app.Host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var pkce = Pkce.Create();
        var response = await browser.GetAsync(AuthorizeUrl(tenantSlug, pkce.Challenge, scope));
        if (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.StartsWith("/t/", StringComparison.Ordinal))
        {
            var html = await (await browser.GetAsync(response.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
            var posted = await browser.PostAsync($"/t/{tenantSlug}/login", Forms.From(html, ("email", email), ("password", password)));
            await posted.ShouldBeAsync(303);
            response = await browser.GetAsync(posted.Headers.Location!.OriginalString);
        }

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"expected a redirect with a code, got {(int)response.StatusCode} {response.Headers.Location}\n{body}");
        var query = QueryHelpers.ParseQuery(response.Headers.Location!.Query);
        Assert.True(query.ContainsKey("code"), $"no code in {response.Headers.Location}");
        var token = await app.Anonymous().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = RedirectUri,
            ["client_id"] = ClientId, ["code_verifier"] = pkce.Verifier,
        }));
        return await token.ReadJsonAsync(200);
    }

    /// <summary>A user of the tenant with a password and the given roles (granted through the API), and its console bearer client.</summary>
    public static async Task<(string UserId, HttpClient Client)> AdminUserAsync(
        ScaiKeyApp app, string tenantId, string tenantSlug, params (string Role, string? PartnerId, string? TenantId)[] grants)
    {
        var email = $"admin-{Guid.NewGuid():N}@example.com";
        const string password = "Console-Password-2026!";
        var userId = await app.CreateUserIdAsync(tenantId, email, password);
        using var admin = await app.AdminAsync();
        foreach (var (role, partnerId, grantTenant) in grants)
        {
            await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
                new { principal_type = "USER", principal_id = userId, role, partner_id = partnerId, tenant_id = grantTenant })).ShouldBeAsync(201);
        }

        var tokens = await TokensAsync(app, tenantSlug, email, password);
        return (userId, app.WithToken(tokens["access_token"]!.GetValue<string>()));
    }
}
