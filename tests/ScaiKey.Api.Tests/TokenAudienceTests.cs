using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.WebUtilities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Who a token speaks for (docs/security.md, "Audiences and scopes"): a user's token issued to a tenant application
/// is for that application and can never act at the management API with the user's roles; only the built-in console
/// client, with the scaikey.admin scope, gets user tokens the API accepts.
/// </summary>
public sealed class TokenAudienceTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Audience-Password-2026!";

    private async Task<(string Id, string Slug)> TenantAsync(string? partnerId = null)
    {
        var id = await app.CreateTenantAsync(partnerId: partnerId);
        using var admin = await app.AdminAsync();
        var slug = (await (await admin.GetAsync($"/api/v1/admin/tenants/{id}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        return (id, slug);
    }

    private async Task<string> GrantAsync(string userId, string role, string? partnerId = null, string? tenantId = null)
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = userId, role, partner_id = partnerId, tenant_id = tenantId })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
    }

    /// <summary>A WEB application of the tenant, as a tenant admin would register it: its own redirect URI, the code flow and the password grant.</summary>
    private async Task<(string ClientId, string Secret, string RedirectUri)> TenantApplicationAsync(
        string tenantId, string redirectUri = "https://attacker.example.net/cb", bool firstParty = false)
    {
        using var admin = await app.AdminAsync();
        var data = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications", new
        {
            name = "Innocent-looking app",
            type = "WEB",
            redirect_uris = new[] { redirectUri },
            grant_types = new[] { "authorization_code", "refresh_token", "password" },
            first_party = firstParty,
            consent_required = false,
        })).ReadJsonAsync(201))["data"]!;
        return (data["client_id"]!.GetValue<string>(), data["client_secret"]!.GetValue<string>(), redirectUri);
    }

    private async Task<HttpResponseMessage> ConfidentialTokenAsync(string clientId, string secret, Dictionary<string, string> form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return await app.Anonymous().SendAsync(request);
    }

    private static string[] Audiences(string accessToken)
    {
        var aud = Jwt.Payload(accessToken)["aud"]!;
        return aud is JsonArray array ? [.. array.Select(a => a!.GetValue<string>())] : [aud.GetValue<string>()];
    }

    [Fact]
    public async Task A_tenant_admins_application_gets_nothing_from_a_platform_admin_who_signs_in_to_it()
    {
        // The victim: a platform admin whose account lives in a tenant whose admin is the attacker.
        var (tenant, slug) = await TenantAsync();
        var victim = await app.CreateUserIdAsync(tenant, "root@example.com", Password);
        await GrantAsync(victim, "PLATFORM_ADMIN");

        // The victim has a live sign-in cookie for the tenant (from the console, say).
        using var browser = app.Host.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var pkce = Pkce.Create();
        var login = await browser.GetAsync(ConsoleSignIn.AuthorizeUrl(slug, pkce.Challenge));
        var html = await (await browser.GetAsync(login.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        await (await browser.PostAsync($"/t/{slug}/login", Forms.From(html, ("email", "root@example.com"), ("password", Password)))).ShouldBeAsync(303);

        // The attacker registers an application with its own redirect URI and sends the victim a link.
        var (evil, evilSecret, redirect) = await TenantApplicationAsync(tenant);
        var attack = Pkce.Create();
        string Link(string scope) => "/connect/authorize?" + string.Join('&', $"client_id={evil}", "response_type=code",
            $"redirect_uri={Uri.EscapeDataString(redirect)}", $"scope={Uri.EscapeDataString(scope)}", "state=s",
            $"code_challenge={attack.Challenge}", "code_challenge_method=S256");

        // Asking for the admin scope outright is refused: only the console client may hold it.
        var greedy = await browser.GetAsync(Link("openid scaikey.admin"));
        // OpenIddict answers it itself (400, ID2051) before any code could exist.
        var greedyBody = await greedy.Content.ReadAsStringAsync();
        Assert.True(greedy.StatusCode == HttpStatusCode.BadRequest && greedy.Headers.Location is null
            && greedyBody.Contains("not allowed to use the specified scope", StringComparison.Ordinal), $"{(int)greedy.StatusCode} {greedy.Headers.Location}\n{greedyBody}");

        // An ordinary request gets a code (the victim is signed in), but the tokens are the application's own.
        var silent = await browser.GetAsync(Link("openid offline_access"));
        var query = QueryHelpers.ParseQuery(silent.Headers.Location?.Query ?? string.Empty);
        Assert.True(query.ContainsKey("code"), $"{(int)silent.StatusCode} {silent.Headers.Location}\n{await silent.Content.ReadAsStringAsync()}");
        var tokens = await (await ConfidentialTokenAsync(evil, evilSecret, new()
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = redirect, ["code_verifier"] = attack.Verifier,
        })).ReadJsonAsync(200);
        var access = tokens["access_token"]!.GetValue<string>();
        Assert.Equal([evil], Audiences(access));

        using var stolen = app.WithToken(access);
        foreach (var path in new[] { "/api/v1/admin/tenants", "/api/v1/admin/partners", $"/api/v1/tenants/{tenant}/users", "/api/v1/admin/signing-keys" })
        {
            await (await stolen.GetAsync(path)).ReadProblemAsync(401);
        }

        // Nor does the refresh token it kept ever turn into more.
        var refreshed = await (await ConfidentialTokenAsync(evil, evilSecret, new()
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>(),
        })).ReadJsonAsync(200);
        Assert.Equal([evil], Audiences(refreshed["access_token"]!.GetValue<string>()));
        using var kept = app.WithToken(refreshed["access_token"]!.GetValue<string>());
        await (await kept.GetAsync("/api/v1/admin/tenants")).ReadProblemAsync(401);

        // Even marked first-party by its tenant admin (who can), the application's account-scope token is for the
        // account API only: every management route refuses it.
        var (trusted, trustedSecret, trustedRedirect) = await TenantApplicationAsync(tenant, "https://attacker.example.net/cb2", firstParty: true);
        var again = Pkce.Create();
        var accountLink = "/connect/authorize?" + string.Join('&', $"client_id={trusted}", "response_type=code",
            $"redirect_uri={Uri.EscapeDataString(trustedRedirect)}", "scope=openid%20account", "state=s",
            $"code_challenge={again.Challenge}", "code_challenge_method=S256");
        var accountCode = QueryHelpers.ParseQuery((await browser.GetAsync(accountLink)).Headers.Location?.Query ?? string.Empty)["code"].ToString();
        var accountTokens = await (await ConfidentialTokenAsync(trusted, trustedSecret, new()
        {
            ["grant_type"] = "authorization_code", ["code"] = accountCode, ["redirect_uri"] = trustedRedirect, ["code_verifier"] = again.Verifier,
        })).ReadJsonAsync(200);
        Assert.Equal([trusted, "scaikey-api"], Audiences(accountTokens["access_token"]!.GetValue<string>()));
        using var account = app.WithToken(accountTokens["access_token"]!.GetValue<string>());
        foreach (var path in new[] { "/api/v1/admin/tenants", "/api/v1/admin/partners", $"/api/v1/tenants/{tenant}/users", "/api/v1/admin/signing-keys" })
        {
            var refused = await (await account.GetAsync(path)).ReadProblemAsync(403);
            Assert.Contains("scaikey.admin", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Control: the same user through the console client, with the admin scope, is a platform admin at the API.
        var console = await ConsoleSignIn.TokensAsync(app, slug, "root@example.com", Password);
        Assert.Contains("scaikey-api", Audiences(console["access_token"]!.GetValue<string>()));
        using var real = app.WithToken(console["access_token"]!.GetValue<string>());
        await (await real.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task An_application_no_longer_first_party_stops_getting_the_account_scope_on_refresh()
    {
        var (tenant, _) = await TenantAsync();
        await app.CreateUserIdAsync(tenant, "acct@example.com", Password);
        var (client, secret, _) = await TenantApplicationAsync(tenant, "https://first.example.net/cb", firstParty: true);
        var tokens = await (await ConfidentialTokenAsync(client, secret, new()
        {
            ["grant_type"] = "password", ["username"] = "acct@example.com", ["password"] = Password, ["scope"] = "openid offline_access account",
        })).ReadJsonAsync(200);
        Assert.Equal([client, "scaikey-api"], Audiences(tokens["access_token"]!.GetValue<string>()));

        // Control: refreshed while first-party, the account scope stays.
        var kept = await (await ConfidentialTokenAsync(client, secret, new()
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>(),
        })).ReadJsonAsync(200);
        Assert.Contains("account", Jwt.Payload(kept["access_token"]!.GetValue<string>())["scope"]!.GetValue<string>().Split(' '));

        using (var admin = await app.AdminAsync())
        {
            var appId = (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/applications")).ReadJsonAsync(200))["data"]!.AsArray()
                .Single(a => a!["client_id"]!.GetValue<string>() == client)!["id"]!.GetValue<string>();
            await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/applications/{appId}", new { first_party = false })).ShouldBeAsync(200);
        }

        var narrowed = await (await ConfidentialTokenAsync(client, secret, new()
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = kept["refresh_token"]!.GetValue<string>(),
        })).ReadJsonAsync(200);
        var payload = Jwt.Payload(narrowed["access_token"]!.GetValue<string>());
        Assert.DoesNotContain("account", payload["scope"]?.GetValue<string>().Split(' ') ?? []);
        Assert.Equal([client], Audiences(narrowed["access_token"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_password_grant_of_a_tenant_application_cannot_ask_for_the_admin_or_account_scope()
    {
        var (tenant, _) = await TenantAsync();
        var userId = await app.CreateUserIdAsync(tenant, "pw@example.com", Password);
        await GrantAsync(userId, "TENANT_ADMIN", tenantId: tenant);
        var (client, secret, _) = await TenantApplicationAsync(tenant, "https://app.example.net/cb");

        foreach (var scope in new[] { "openid scaikey.admin", "openid account" })
        {
            var refused = await (await ConfidentialTokenAsync(client, secret, new()
            {
                ["grant_type"] = "password", ["username"] = "pw@example.com", ["password"] = Password, ["scope"] = scope,
            })).ReadJsonAsync(400);
            // OpenIddict's wording for a scope the client holds no permission for (ID2051).
            Assert.True(refused["error"]!.GetValue<string>() == "invalid_request"
                && refused["error_description"]!.GetValue<string>().Contains("not allowed to use the specified scope", StringComparison.Ordinal), refused.ToJsonString());
        }

        // Control: without them the grant works, and the token is the application's alone.
        var tokens = await (await ConfidentialTokenAsync(client, secret, new()
        {
            ["grant_type"] = "password", ["username"] = "pw@example.com", ["password"] = Password, ["scope"] = "openid email",
        })).ReadJsonAsync(200);
        Assert.Equal([client], Audiences(tokens["access_token"]!.GetValue<string>()));
        using var api = app.WithToken(tokens["access_token"]!.GetValue<string>());
        await (await api.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(401);
    }

    [Fact]
    public async Task A_console_token_acts_with_exactly_the_users_roles()
    {
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Console partner" });
        var (tenant, slug) = await TenantAsync(partner);
        var (other, _) = await TenantAsync();
        var (_, tenantAdmin) = await ConsoleSignIn.AdminUserAsync(app, tenant, slug, ("TENANT_ADMIN", null, tenant));
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(200);
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{other}/users")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync("/api/v1/admin/tenants")).ReadProblemAsync(403);

        var (_, partnerAdmin) = await ConsoleSignIn.AdminUserAsync(app, tenant, slug, ("PARTNER_ADMIN", partner, null));
        var listed = await (await partnerAdmin.GetAsync("/api/v1/admin/tenants")).ReadJsonAsync(200);
        Assert.Equal([tenant], listed["data"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()));
        await (await partnerAdmin.GetAsync("/api/v1/admin/partners")).ReadProblemAsync(403);

        // A user without any role gets nothing, though the token is a console token.
        var (_, nobody) = await ConsoleSignIn.AdminUserAsync(app, tenant, slug);
        await (await nobody.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task A_console_token_without_the_admin_scope_is_not_for_the_api()
    {
        var (tenant, slug) = await TenantAsync();
        var userId = await app.CreateUserIdAsync(tenant, "noscope@example.com", Password);
        await GrantAsync(userId, "TENANT_ADMIN", tenantId: tenant);
        var tokens = await ConsoleSignIn.TokensAsync(app, slug, "noscope@example.com", Password, scope: "openid profile");
        Assert.Equal([ConsoleSignIn.ClientId], Audiences(tokens["access_token"]!.GetValue<string>()));
        using var api = app.WithToken(tokens["access_token"]!.GetValue<string>());
        await (await api.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(401);
    }

    [Fact]
    public async Task A_console_token_stops_working_at_the_api_when_its_user_is_disabled()
    {
        var (tenant, slug) = await TenantAsync();
        var (userId, console) = await ConsoleSignIn.AdminUserAsync(app, tenant, slug, ("TENANT_VIEWER", null, tenant));
        await (await console.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(200);

        using var admin = await app.AdminAsync();
        await (await admin.PutAsync($"/api/v1/tenants/{tenant}/users/{userId}/status", HttpAssertions.Json("""{"status": "DISABLED"}"""))).ShouldBeAsync(200);
        await (await console.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(401);
    }

    [Fact]
    public async Task The_console_client_is_public_and_needs_pkce()
    {
        var (_, slug) = await TenantAsync();
        using var browser = app.Anonymous();
        var noPkce = await browser.GetAsync("/connect/authorize?" + string.Join('&', $"client_id={ConsoleSignIn.ClientId}", "response_type=code",
            $"redirect_uri={Uri.EscapeDataString(ConsoleSignIn.RedirectUri)}", "scope=openid%20scaikey.admin", "state=s", $"tenant={slug}"));
        var error = QueryHelpers.ParseQuery(noPkce.Headers.Location?.Query ?? string.Empty);
        Assert.True(noPkce.StatusCode == HttpStatusCode.BadRequest || error["error"] == "invalid_request",
            $"{(int)noPkce.StatusCode} {noPkce.Headers.Location}\n{await noPkce.Content.ReadAsStringAsync()}");

        // It cannot use client credentials: it has no secret and no such grant.
        var cc = await app.Anonymous().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = ConsoleSignIn.ClientId,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, cc.StatusCode);
    }
}
