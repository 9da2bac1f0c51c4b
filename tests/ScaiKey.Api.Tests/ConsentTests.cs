using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Consent (issue 13, point 3): an application with consent_required sends the browser to the consent page until
/// the user has allowed every requested scope; Allow is remembered per user and application, Deny is access_denied,
/// prompt=none is consent_required, prompt=consent asks again, and an administrator can revoke a consent (which
/// ends the user's tokens from that application).
/// </summary>
public sealed class ConsentTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Revoking_the_consent_of_a_user_with_wider_roles_needs_those_roles()
    {
        var tenant = await app.CreateTenantAsync();
        var root = await app.CreateUserIdAsync(tenant, "root-consent@example.com", "Consent-Password-2026!");
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments", new { principal_type = "USER", principal_id = root, role = "PLATFORM_ADMIN" })).ShouldBeAsync(201);
        var application = await app.CreateAsync($"/api/v1/tenants/{tenant}/applications",
            new { name = "Consented", type = "SPA", redirect_uris = new[] { "http://127.0.0.1:5173/cb" } });
        var consent = Guid.NewGuid().ToString();
        await app.DbAsync(async db =>
        {
            db.UserConsents.Add(new ScaiKey.Data.Entities.UserConsent
            {
                Id = consent, TenantId = tenant, UserId = root, ApplicationId = application, ScopesJson = "[\"openid\"]",
                CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        });

        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        await (await tenantAdmin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{root}/consents/{consent}")).ReadProblemAsync(403);

        // Control: a platform admin may.
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{root}/consents/{consent}")).ShouldBeAsync(204);
    }

    // ---- the consent page ----

    [Fact]
    public async Task A_consent_required_application_asks_once_lists_the_scopes_and_remembers_allow()
    {
        var client = await OidcTestClient.CreateAsync(app, consentRequired: true);
        var userId = await client.CreateUserAsync(app, "ada@example.com");
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();

        var consent = await SignInToConsentAsync(client, browser, "ada@example.com", client.AuthorizeUrl(pkce));
        var page = await browser.GetAsync(consent);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        Assert.Equal(HostedPagesTests.ContentSecurityPolicy + " http://127.0.0.1:5173", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-store", page.Headers.CacheControl!.ToString());
        Assert.Contains("<h1>Allow Dashboard?</h1>", html, StringComparison.Ordinal);
        Assert.Contains("ada@example.com", html, StringComparison.Ordinal);
        foreach (var line in new[]
        {
            "Know who you are", "See your email address", "See your name, language and time zone", "See the names of the groups you belong to",
            "Keep this access while you are not using the application",
        })
        {
            Assert.Contains(line, html, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await ConsentsInDbAsync(userId));

        // Allow: remembered, and back to the authorization endpoint, which now issues the code.
        var allowed = await browser.PostAsync($"/t/{client.Slug}/consent", Forms.From(html, ("decision", "allow")));
        await allowed.ShouldBeAsync(303);
        var back = allowed.Headers.Location!.OriginalString;
        Assert.StartsWith("/connect/authorize?", back, StringComparison.Ordinal);
        var code = await client.CodeFromAsync(await browser.GetAsync(back), expectedState: "state-1");
        await (await client.RedeemAsync(app, code, pkce.Verifier)).ShouldBeAsync(200);
        var stored = Assert.Single(await ConsentsInDbAsync(userId));
        Assert.Equal("""["email","groups","offline_access","openid","profile"]""", stored.ScopesJson);
        Assert.Equal(client.ApplicationId, stored.ApplicationId);
        Assert.Equal(client.TenantId, stored.TenantId);

        // Remembered: the same or fewer scopes need no page; prompt=none gets a code too.
        var again = Pkce.Create();
        await client.CodeFromAsync(await browser.GetAsync(client.AuthorizeUrl(again, scope: "openid email")), expectedState: "state-1");
        await client.CodeFromAsync(await browser.GetAsync(client.AuthorizeUrl(again, extra: "&prompt=none")), expectedState: "state-1");
        Assert.Single(await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == userId && e.Action == "user.consent_granted").ToListAsync()));
    }

    [Fact]
    public async Task A_request_for_more_scopes_asks_again_and_the_consent_grows()
    {
        var client = await OidcTestClient.CreateAsync(app, consentRequired: true);
        var userId = await client.CreateUserAsync(app, "grow@example.com");
        using var browser = client.Browser(app);

        var narrow = await SignInToConsentAsync(client, browser, "grow@example.com", client.AuthorizeUrl(Pkce.Create(), scope: "openid email"));
        await AllowAsync(client, browser, narrow);
        Assert.Equal("""["email","openid"]""", Assert.Single(await ConsentsInDbAsync(userId)).ScopesJson);

        var wider = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), scope: "openid groups"));
        Assert.StartsWith($"/t/{client.Slug}/consent?return_url=", wider.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var html = await (await browser.GetAsync(wider.Headers.Location!.OriginalString)).Content.ReadAsStringAsync();
        Assert.Contains("See the names of the groups you belong to", html, StringComparison.Ordinal);
        Assert.DoesNotContain("See your email address", html, StringComparison.Ordinal);
        await AllowAsync(client, browser, wider.Headers.Location!.OriginalString);
        Assert.Equal("""["email","groups","openid"]""", Assert.Single(await ConsentsInDbAsync(userId)).ScopesJson);
    }

    [Fact]
    public async Task Deny_sends_access_denied_to_the_client_and_remembers_nothing()
    {
        var client = await OidcTestClient.CreateAsync(app, consentRequired: true);
        var userId = await client.CreateUserAsync(app, "deny@example.com");
        using var browser = client.Browser(app);
        var consent = await SignInToConsentAsync(client, browser, "deny@example.com", client.AuthorizeUrl(Pkce.Create(), state: "s-deny"));
        var html = await (await browser.GetAsync(consent)).Content.ReadAsStringAsync();

        var denied = await browser.PostAsync($"/t/{client.Slug}/consent", Forms.From(html, ("decision", "deny")));
        await denied.ShouldBeAsync(303);
        var error = await browser.GetAsync(denied.Headers.Location!.OriginalString);
        AssertErrorRedirect(client, error, "access_denied");
        Assert.Equal("s-deny", QueryHelpers.ParseQuery(error.Headers.Location!.Query)["state"].ToString());
        Assert.Empty(await ConsentsInDbAsync(userId));
        Assert.Empty(await app.DbAsync(db => db.TokenGrants.Where(g => g.UserId == userId).ToListAsync()));

        // Control: the same form with Allow continues to a code.
        var allowed = await browser.PostAsync($"/t/{client.Slug}/consent", Forms.From(html, ("decision", "allow")));
        await client.CodeFromAsync(await browser.GetAsync(allowed.Headers.Location!.OriginalString), expectedState: "s-deny");
    }

    [Fact]
    public async Task Prompt_none_is_consent_required_and_prompt_consent_asks_even_when_remembered()
    {
        var client = await OidcTestClient.CreateAsync(app, consentRequired: true);
        await client.CreateUserAsync(app, "prompt@example.com");
        using var browser = client.Browser(app);
        var consent = await SignInToConsentAsync(client, browser, "prompt@example.com", client.AuthorizeUrl(Pkce.Create()));

        // Signed in, but no consent yet: no page may be shown with prompt=none.
        AssertErrorRedirect(client, await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=none")), "consent_required");
        await AllowAsync(client, browser, consent);

        var asked = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=consent"));
        var page = asked.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/consent?return_url=", page, StringComparison.Ordinal);

        // The way back drops prompt=consent (else the page would come back forever); allowing again gives the code.
        Assert.DoesNotContain("prompt", ReturnUrl(page), StringComparison.Ordinal);
        await AllowAsync(client, browser, page);

        // prompt="login consent": the login page first, whose way back keeps prompt=consent for the consent page.
        var both = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=login%20consent"));
        var login = both.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/login?", login, StringComparison.Ordinal);
        Assert.Equal("consent", QueryHelpers.ParseQuery(new Uri("http://x" + ReturnUrl(login)).Query)["prompt"].ToString());
    }

    [Fact]
    public async Task Applications_without_consent_required_and_first_party_ones_issue_codes_without_the_page()
    {
        var plain = await OidcTestClient.CreateAsync(app, consentRequired: false);
        await plain.CreateUserAsync(app, "plain@example.com");
        using (var browser = plain.Browser(app))
        {
            await plain.CodeAsync(app, browser, "plain@example.com", Pkce.Create());
        }

        // first_party alone defaults consent_required to false.
        var own = await OidcTestClient.CreateAsync(app);
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{own.TenantId}/applications", new
        {
            name = "Own portal", type = "SPA", redirect_uris = new[] { own.RedirectUri }, first_party = true,
        })).ReadJsonAsync(201);
        Assert.False(created["data"]!["consent_required"]!.GetValue<bool>());
        var ownClient = own with { ClientId = created["data"]!["client_id"]!.GetValue<string>() };
        await ownClient.CreateUserAsync(app, "own@example.com");
        using var ownBrowser = ownClient.Browser(app);
        await ownClient.CodeAsync(app, ownBrowser, "own@example.com", Pkce.Create());
    }

    [Fact]
    public async Task The_consent_form_needs_its_csrf_token_a_session_and_an_authorization_return_url()
    {
        var client = await OidcTestClient.CreateAsync(app, consentRequired: true);
        var userId = await client.CreateUserAsync(app, "csrf@example.com");
        using var browser = client.Browser(app);
        var consent = await SignInToConsentAsync(client, browser, "csrf@example.com", client.AuthorizeUrl(Pkce.Create()));
        var html = await (await browser.GetAsync(consent)).Content.ReadAsStringAsync();

        var noToken = await browser.PostAsync($"/t/{client.Slug}/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["return_url"] = Forms.Hidden(html, "return_url"), ["decision"] = "allow",
        }));
        await noToken.ShouldBeAsync(400);
        Assert.Empty(await ConsentsInDbAsync(userId));

        // Another return URL than this server's authorization endpoint is refused, on the page and the form.
        var evil = "https://evil.example.com/connect/authorize?client_id=" + client.ClientId;
        await (await browser.GetAsync($"/t/{client.Slug}/consent?return_url={Uri.EscapeDataString(evil)}")).ShouldBeAsync(400);
        await (await browser.PostAsync($"/t/{client.Slug}/consent", Forms.From(html, ("return_url", evil), ("decision", "allow")))).ShouldBeAsync(400);

        // A client of another tenant is not this tenant's to consent to.
        var other = await OidcTestClient.CreateAsync(app, consentRequired: true);
        var foreign = "/connect/authorize?client_id=" + other.ClientId + "&scope=openid";
        await (await browser.GetAsync($"/t/{client.Slug}/consent?return_url={Uri.EscapeDataString(foreign)}")).ShouldBeAsync(400);
        await (await browser.GetAsync($"/t/{client.Slug}/consent?return_url={Uri.EscapeDataString("/connect/authorize?scope=openid")}")).ShouldBeAsync(400);

        // The login page shares the return URL check: one without redirect_uri is shown (the endpoint refuses it later), not a 500.
        await (await browser.GetAsync($"/t/{client.Slug}/login?return_url={Uri.EscapeDataString(foreign)}")).ShouldBeAsync(200);
        Assert.Empty(await ConsentsInDbAsync(userId));

        // Without a session the page sends the browser to the login page, keeping the way back.
        using var stranger = client.Browser(app);
        var anonymous = await stranger.GetAsync(consent);
        Assert.StartsWith($"/t/{client.Slug}/login?return_url=%2Fconnect%2Fauthorize%3F", anonymous.Headers.Location!.OriginalString, StringComparison.Ordinal);

        // Control: the browser's own form works.
        await AllowAsync(client, browser, consent);
        Assert.Single(await ConsentsInDbAsync(userId));
    }

    // ---- revocation by an administrator ----

    [Fact]
    public async Task An_admin_lists_and_revokes_a_consent_which_ends_that_applications_tokens_only()
    {
        var client = await OidcTestClient.CreateAsync(app, consentRequired: true);
        var userId = await client.CreateUserAsync(app, "revoke@example.com");
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();
        var consent = await SignInToConsentAsync(client, browser, "revoke@example.com", client.AuthorizeUrl(pkce));
        var tokens = await (await client.RedeemAsync(app, await AllowAsync(client, browser, consent), pkce.Verifier)).ReadJsonAsync(200);
        var access = tokens["access_token"]!.GetValue<string>();
        await (await UserinfoAsync(access)).ShouldBeAsync(200);

        // A second application of the same tenant, without consent: its tokens must survive the revocation.
        var second = await SecondClientAsync(client);
        var secondPkce = Pkce.Create();
        var secondTokens = await (await second.RedeemAsync(app, await second.CodeFromAsync(
            await browser.GetAsync(second.AuthorizeUrl(secondPkce)), "state-1"), secondPkce.Verifier)).ReadJsonAsync(200);

        using var admin = await app.AdminAsync();
        var path = $"/api/v1/tenants/{client.TenantId}/users/{userId}/consents";
        var list = (await (await admin.GetAsync(path)).ReadJsonAsync(200))["data"]!.AsArray();
        var item = Assert.Single(list)!;
        Assert.Equal(client.ApplicationId, item["application_id"]!.GetValue<string>());
        Assert.Equal("Dashboard", item["application_name"]!.GetValue<string>());
        Assert.Equal(client.ClientId, item["client_id"]!.GetValue<string>());
        Assert.Equal(["email", "groups", "offline_access", "openid", "profile"], item["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.NotNull(item["created_at"]);
        var consentId = item["id"]!.GetValue<string>();

        // Unknown consent, or a consent id under another user: 404, nothing revoked.
        var otherUser = await client.CreateUserAsync(app, "other@example.com");
        await (await admin.DeleteAsync($"/api/v1/tenants/{client.TenantId}/users/{otherUser}/consents/{consentId}")).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"{path}/{Guid.NewGuid()}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{client.TenantId}/users/{Guid.NewGuid()}/consents")).ReadProblemAsync(404);
        await (await UserinfoAsync(access)).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"{path}/{consentId}")).ShouldBeAsync(204);
        Assert.Empty((await (await admin.GetAsync(path)).ReadJsonAsync(200))["data"]!.AsArray());
        Assert.Equal(HttpStatusCode.Unauthorized, (await UserinfoAsync(access)).StatusCode);
        var refused = await (await client.RefreshAsync(app, tokens["refresh_token"]!.GetValue<string>())).ReadJsonAsync(400);
        Assert.Equal("invalid_grant", refused["error"]!.GetValue<string>());
        Assert.Equal("consent_revoked", await app.DbAsync(db => db.TokenGrants
            .Where(g => g.UserId == userId && g.ClientId == client.ClientId).Select(g => g.RevokedReason).SingleAsync()));
        Assert.Single(await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == userId && e.Action == "user.consent_revoked").ToListAsync()));

        // The other application's tokens and the browser session stand; the next request asks for consent again.
        await (await UserinfoAsync(secondTokens["access_token"]!.GetValue<string>())).ShouldBeAsync(200);
        await (await second.RefreshAsync(app, secondTokens["refresh_token"]!.GetValue<string>())).ShouldBeAsync(200);
        var again = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()));
        Assert.StartsWith($"/t/{client.Slug}/consent?", again.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await (await admin.DeleteAsync($"{path}/{consentId}")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task A_tenant_viewer_may_list_consents_but_not_revoke_them()
    {
        var client = await OidcTestClient.CreateAsync(app, consentRequired: true);
        var userId = await client.CreateUserAsync(app, "viewer@example.com");
        using var browser = client.Browser(app);
        await AllowAsync(client, browser, await SignInToConsentAsync(client, browser, "viewer@example.com", client.AuthorizeUrl(Pkce.Create())));
        var path = $"/api/v1/tenants/{client.TenantId}/users/{userId}/consents";
        using var viewer = await app.ClientWithRolesAsync(("TENANT_VIEWER", null, client.TenantId));
        var consentId = (await (await viewer.GetAsync(path)).ReadJsonAsync(200))["data"]![0]!["id"]!.GetValue<string>();
        await (await viewer.DeleteAsync($"{path}/{consentId}")).ReadProblemAsync(403);
        Assert.Single(await ConsentsInDbAsync(userId));
    }

    // ---- helpers ----

    /// <summary>authorize, the login page and its POST, authorize again: the consent page's URL.</summary>
    private async Task<string> SignInToConsentAsync(OidcTestClient client, HttpClient browser, string email, string authorizeUrl)
    {
        var login = (await browser.GetAsync(authorizeUrl)).Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/login?", login, StringComparison.Ordinal);
        var html = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        var posted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", email), ("password", OidcTestClient.Password)));
        await posted.ShouldBeAsync(303);
        var back = await browser.GetAsync(posted.Headers.Location!.OriginalString);
        var consent = back.Headers.Location?.OriginalString ?? string.Empty;
        Assert.True(back.StatusCode == HttpStatusCode.Redirect && consent.StartsWith($"/t/{client.Slug}/consent?return_url=", StringComparison.Ordinal),
            $"expected the consent page, got {(int)back.StatusCode} {consent}");
        return consent;
    }

    /// <summary>Allows on the consent page and follows the way back: the code.</summary>
    private static async Task<string> AllowAsync(OidcTestClient client, HttpClient browser, string consentUrl)
    {
        var html = await (await browser.GetAsync(consentUrl)).Content.ReadAsStringAsync();
        var allowed = await browser.PostAsync($"/t/{client.Slug}/consent", Forms.From(html, ("decision", "allow")));
        await allowed.ShouldBeAsync(303);
        var back = await browser.GetAsync(allowed.Headers.Location!.OriginalString);
        var query = QueryHelpers.ParseQuery(back.Headers.Location!.Query);
        return query["code"].ToString();
    }

    /// <summary>Another SPA application of the same tenant and redirect URI, without consent.</summary>
    private async Task<OidcTestClient> SecondClientAsync(OidcTestClient client)
    {
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/applications", new
        {
            name = "Second", type = "SPA", redirect_uris = new[] { client.RedirectUri }, consent_required = false,
        })).ReadJsonAsync(201);
        return client with { ClientId = created["data"]!["client_id"]!.GetValue<string>(), ApplicationId = created["data"]!["id"]!.GetValue<string>() };
    }

    private Task<List<ScaiKey.Data.Entities.UserConsent>> ConsentsInDbAsync(string userId) =>
        app.DbAsync(db => db.UserConsents.AsNoTracking().Where(c => c.UserId == userId).ToListAsync());

    private Task<HttpResponseMessage> UserinfoAsync(string accessToken)
    {
        var http = app.Anonymous();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return http.GetAsync("/connect/userinfo");
    }

    private static string ReturnUrl(string pageUrl) =>
        QueryHelpers.ParseQuery(new Uri("http://x" + pageUrl).Query)["return_url"].ToString();

    internal static void AssertErrorRedirect(OidcTestClient client, HttpResponseMessage response, string error)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"expected a redirect with {error}, got {(int)response.StatusCode} {response.Headers.Location}");
        var location = response.Headers.Location!;
        Assert.Equal(client.RedirectUri, location.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(error, query["error"].ToString());
        Assert.False(query.ContainsKey("code"));
    }
}
