using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The authorization-code flow with PKCE over HTTP, as a browser and a client application drive it: authorize, the
/// hosted login page, the code, the token endpoint, userinfo, refresh rotation, replay, logout and revocation.
/// </summary>
public sealed class CodeFlowTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Code_flow_with_pkce_signs_in_and_the_tokens_describe_the_user()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "ada@example.com", first: "Ada", last: "Lovelace");
        var staff = await app.CreateAsync($"/api/v1/tenants/{client.TenantId}/groups", new { name = "Staff" });
        var group = await app.CreateAsync($"/api/v1/tenants/{client.TenantId}/groups", new { name = "Engineers", parent_group_id = staff });
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/groups/{group}/members", new { user_ids = new[] { userId } })).ShouldBeAsync(200);
        }

        using var browser = client.Browser(app);
        var pkce = Pkce.Create();

        // Not signed in: the authorization endpoint sends the browser to the tenant's login page.
        var authorize = await browser.GetAsync(client.AuthorizeUrl(pkce, nonce: "n-0S6_WzA2Mj"));
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var login = authorize.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/login?return_url=", login, StringComparison.Ordinal);

        var page = await browser.GetAsync(login);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(client.TenantName, html, StringComparison.Ordinal);

        var posted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "ada@example.com"), ("password", OidcTestClient.Password)));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var back = posted.Headers.Location!.OriginalString;
        Assert.StartsWith("/connect/authorize?", back, StringComparison.Ordinal);

        var code = await client.CodeFromAsync(await browser.GetAsync(back), expectedState: "state-1");
        var tokens = await (await client.RedeemAsync(app, code, pkce.Verifier)).ReadJsonAsync(200);
        Assert.Equal("Bearer", tokens["token_type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(tokens["refresh_token"]?.GetValue<string>()));

        var id = Jwt.Payload(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(userId, id["sub"]!.GetValue<string>());
        Assert.Equal(client.ClientId, id["aud"]!.GetValue<string>());
        Assert.Equal("n-0S6_WzA2Mj", id["nonce"]!.GetValue<string>());
        Assert.Equal("ada@example.com", id["email"]!.GetValue<string>());
        Assert.False(id["email_verified"]!.GetValue<bool>());
        Assert.Equal("Ada Lovelace", id["name"]!.GetValue<string>());
        Assert.Equal("Ada", id["given_name"]!.GetValue<string>());
        Assert.Equal("Lovelace", id["family_name"]!.GetValue<string>());
        Assert.Equal("en", id["locale"]!.GetValue<string>());
        Assert.Equal("UTC", id["zoneinfo"]!.GetValue<string>());
        Assert.Equal(["Engineers", "Staff"], id["groups"]!.AsArray().Select(g => g!.GetValue<string>()));

        var userinfo = await (await Userinfo(tokens["access_token"]!.GetValue<string>())).ReadJsonAsync(200);
        Assert.Equal(userId, userinfo["sub"]!.GetValue<string>());
        Assert.Equal("ada@example.com", userinfo["email"]!.GetValue<string>());
        Assert.Equal("Ada Lovelace", userinfo["name"]!.GetValue<string>());
        Assert.Equal(["Engineers", "Staff"], userinfo["groups"]!.AsArray().Select(g => g!.GetValue<string>()));

        // One session from the hosted login, with a last login, and the code's grant redeemed.
        var stored = await app.DbAsync(async db => new
        {
            Sessions = await db.UserSessions.Where(s => s.UserId == userId).ToListAsync(),
            Grants = await db.TokenGrants.Where(g => g.UserId == userId).ToListAsync(),
            LastLogin = await db.Users.Where(u => u.Id == userId).Select(u => u.LastLoginAt).SingleAsync(),
        });
        var session = Assert.Single(stored.Sessions);
        Assert.Null(session.RevokedAt);
        var grant = Assert.Single(stored.Grants);
        Assert.Equal(session.Id, grant.SessionId);
        Assert.Equal(client.ClientId, grant.ClientId);
        Assert.NotNull(grant.CodeRedeemedAt);
        Assert.NotNull(stored.LastLogin);

        // Signed in already: the next authorization request gets a code at once, in the same session.
        var again = Pkce.Create();
        var second = await client.CodeFromAsync(await browser.GetAsync(client.AuthorizeUrl(again)), expectedState: "state-1");
        await (await client.RedeemAsync(app, second, again.Verifier)).ShouldBeAsync(200);
        Assert.Single(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).ToListAsync()));
    }

    [Fact]
    public async Task Userinfo_returns_only_what_the_scopes_allow_and_reads_the_directory_now()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "grace@example.com", first: "Grace", last: "Hopper");
        var narrow = await client.SignInAsync(app, "grace@example.com", scope: "openid");
        var narrowInfo = await (await Userinfo(narrow["access_token"]!.GetValue<string>())).ReadJsonAsync(200);
        Assert.Equal(["sub"], narrowInfo.AsObject().Select(p => p.Key));

        var wide = await client.SignInAsync(app, "grace@example.com", scope: "openid email profile");
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}", new { display_name = "Amazing Grace" })).ShouldBeAsync(200);
        }

        var info = await (await Userinfo(wide["access_token"]!.GetValue<string>())).ReadJsonAsync(200);
        Assert.Equal("Amazing Grace", info["name"]!.GetValue<string>());
        Assert.Equal("grace@example.com", info["email"]!.GetValue<string>());
        Assert.Null(info["groups"]);

        // A client-credentials token has no user to describe.
        var service = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        var refused = await Userinfo(service);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_rotates_and_reusing_a_spent_token_revokes_the_whole_family()
    {
        var client = await OidcTestClient.CreateAsync(app);
        await client.CreateUserAsync(app, "rotate@example.com");
        var first = await client.SignInAsync(app, "rotate@example.com");
        var spent = first["refresh_token"]!.GetValue<string>();

        var second = await (await client.RefreshAsync(app, spent)).ReadJsonAsync(200);
        var current = second["refresh_token"]!.GetValue<string>();
        Assert.NotEqual(spent, current);
        var access = second["access_token"]!.GetValue<string>();
        await (await Userinfo(access)).ShouldBeAsync(200);

        var third = await (await client.RefreshAsync(app, current)).ReadJsonAsync(200);
        var newest = third["refresh_token"]!.GetValue<string>();

        // A spent token comes back: the grant dies, with the newest refresh token and every access token of it.
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await client.RefreshAsync(app, spent)));
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await client.RefreshAsync(app, newest)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Userinfo(third["access_token"]!.GetValue<string>())).StatusCode);
        Assert.Equal("refresh_token_reuse", await app.DbAsync(db => db.TokenGrants
            .Where(g => g.ClientId == client.ClientId).Select(g => g.RevokedReason).SingleAsync()));
    }

    [Fact]
    public async Task A_replayed_code_is_invalid_grant_and_kills_the_tokens_of_its_first_redemption()
    {
        var client = await OidcTestClient.CreateAsync(app);
        await client.CreateUserAsync(app, "replay@example.com");
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();
        var code = await client.CodeAsync(app, browser, "replay@example.com", pkce);

        var first = await (await client.RedeemAsync(app, code, pkce.Verifier)).ReadJsonAsync(200);
        var access = first["access_token"]!.GetValue<string>();
        await (await Userinfo(access)).ShouldBeAsync(200);

        Assert.Equal("invalid_grant", await OAuthErrorAsync(await client.RedeemAsync(app, code, pkce.Verifier)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Userinfo(access)).StatusCode);
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await client.RefreshAsync(app, first["refresh_token"]!.GetValue<string>())));
    }

    [Fact]
    public async Task A_wrong_code_verifier_is_invalid_grant_and_the_right_one_still_works()
    {
        var client = await OidcTestClient.CreateAsync(app);
        await client.CreateUserAsync(app, "verifier@example.com");
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();
        var code = await client.CodeAsync(app, browser, "verifier@example.com", pkce);

        Assert.Equal("invalid_grant", await OAuthErrorAsync(await client.RedeemAsync(app, code, Pkce.Create().Verifier)));
        Assert.Equal("invalid_request", await OAuthErrorAsync(await client.RedeemAsync(app, code, verifier: null)));
        await (await client.RedeemAsync(app, code, pkce.Verifier)).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Plain_or_missing_pkce_is_refused_and_s256_is_accepted()
    {
        var client = await OidcTestClient.CreateAsync(app);
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();

        // OpenIddict answers these itself, before the request reaches the login page; never with a code.
        var plain = await browser.GetAsync(client.AuthorizeUrl(pkce).Replace("code_challenge_method=S256", "code_challenge_method=plain", StringComparison.Ordinal));
        await AssertInvalidRequestAsync(plain);
        var missing = await browser.GetAsync(Regex.Replace(client.AuthorizeUrl(pkce), "&code_challenge(_method)?=[^&]*", string.Empty));
        await AssertInvalidRequestAsync(missing);

        // Control: the same request with S256 reaches the login page.
        var s256 = await browser.GetAsync(client.AuthorizeUrl(pkce));
        Assert.StartsWith($"/t/{client.Slug}/login?", s256.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_uri_that_is_not_registered_exactly_is_refused_without_redirecting()
    {
        var client = await OidcTestClient.CreateAsync(app);
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();
        foreach (var wrong in new[] { client.RedirectUri + "x", client.RedirectUri + "/", "http://127.0.0.1:5174/callback", "https://evil.example.com/callback" })
        {
            var url = client.AuthorizeUrl(pkce).Replace(Uri.EscapeDataString(client.RedirectUri), Uri.EscapeDataString(wrong), StringComparison.Ordinal);
            var response = await browser.GetAsync(url);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Null(response.Headers.Location);
        }

        var unknownClient = await browser.GetAsync(client.AuthorizeUrl(pkce).Replace(client.ClientId, "app_unknown", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, unknownClient.StatusCode);
        Assert.Null(unknownClient.Headers.Location);
    }

    [Fact]
    public async Task Prompt_none_without_a_session_is_login_required_and_prompt_login_asks_again()
    {
        var client = await OidcTestClient.CreateAsync(app);
        await client.CreateUserAsync(app, "prompt@example.com");
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();

        AssertErrorRedirect(client, await browser.GetAsync(client.AuthorizeUrl(pkce, extra: "&prompt=none")), "login_required");

        await client.CodeAsync(app, browser, "prompt@example.com", pkce);
        var silent = await browser.GetAsync(client.AuthorizeUrl(pkce, extra: "&prompt=none"));
        Assert.Contains("code=", silent.Headers.Location!.Query, StringComparison.Ordinal);

        // prompt=login shows the login page although signed in; the way back drops it, so there is no loop.
        var forced = await browser.GetAsync(client.AuthorizeUrl(pkce, extra: "&prompt=login"));
        var login = forced.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/login?", login, StringComparison.Ordinal);
        var returnUrl = QueryHelpers.ParseQuery(new Uri("http://x" + login).Query)["return_url"].ToString();
        Assert.DoesNotContain("prompt", returnUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disabled_user_cannot_sign_in_on_the_login_page()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "disabled@example.com");
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PutAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}/status", new { status = "DISABLED" })).ShouldBeAsync(200);
        }

        using var browser = client.Browser(app);
        var login = (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString;
        var html = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        var refused = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "disabled@example.com"), ("password", OidcTestClient.Password)));
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Invalid email or password.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).ToListAsync()));

        // Control: the same form with an active user's credentials signs in.
        await client.CreateUserAsync(app, "enabled@example.com");
        var accepted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "enabled@example.com"), ("password", OidcTestClient.Password)));
        Assert.Equal(HttpStatusCode.SeeOther, accepted.StatusCode);
    }

    [Fact]
    public async Task A_required_password_change_comes_before_any_code()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "forced@example.com");
        string temporary;
        using (var admin = await app.AdminAsync())
        {
            var reset = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}/password/reset", new { method = "TEMPORARY" })).ReadJsonAsync(200);
            temporary = reset["data"]!["temporary_password"]!.GetValue<string>();
        }

        using var browser = client.Browser(app);
        var pkce = Pkce.Create();
        var login = (await browser.GetAsync(client.AuthorizeUrl(pkce))).Headers.Location!.OriginalString;
        var html = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        var posted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "forced@example.com"), ("password", temporary)));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var change = posted.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/change-password?return_url=%2Fconnect%2Fauthorize%3F", change, StringComparison.Ordinal);

        // Signed in, but the authorization endpoint still sends the browser to the change page, not to the client.
        var authorize = await browser.GetAsync(client.AuthorizeUrl(pkce));
        Assert.StartsWith($"/t/{client.Slug}/change-password?", authorize.Headers.Location!.OriginalString, StringComparison.Ordinal);

        var form = await (await browser.GetAsync(change)).Content.ReadAsStringAsync();
        Assert.Contains("autocomplete=\"new-password\"", form, StringComparison.Ordinal);
        var mismatch = await browser.PostAsync($"/t/{client.Slug}/change-password",
            Forms.From(form, ("new_password", "Brand-New-Lantern-41"), ("confirm_password", "Brand-New-Lantern-42")));
        Assert.Contains("do not match", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var same = await browser.PostAsync($"/t/{client.Slug}/change-password",
            Forms.From(form, ("new_password", temporary), ("confirm_password", temporary)));
        Assert.Contains("different from the current one", await same.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var weak = await browser.PostAsync($"/t/{client.Slug}/change-password",
            Forms.From(form, ("new_password", "short"), ("confirm_password", "short")));
        Assert.Contains("at least 12 characters", await weak.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var changed = await browser.PostAsync($"/t/{client.Slug}/change-password",
            Forms.From(form, ("new_password", "Brand-New-Lantern-41"), ("confirm_password", "Brand-New-Lantern-41")));
        Assert.Equal(HttpStatusCode.SeeOther, changed.StatusCode);
        var code = await client.CodeFromAsync(await browser.GetAsync(changed.Headers.Location!.OriginalString), expectedState: "state-1");
        await (await client.RedeemAsync(app, code, pkce.Verifier)).ShouldBeAsync(200);

        var stored = await app.DbAsync(async db => new
        {
            User = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId),
            Audit = await db.AuditEvents.AsNoTracking().Where(e => e.TargetId == userId && e.Action == "user.password_changed").ToListAsync(),
        });
        Assert.False(stored.User.RequirePasswordChange);
        Assert.NotNull(stored.User.PasswordChangedAt);
        Assert.StartsWith("$argon2id$", stored.User.PasswordHash, StringComparison.Ordinal);
        var audit = Assert.Single(stored.Audit);
        Assert.Equal("USER", audit.ActorType);
        Assert.Equal(userId, audit.ActorId);
        Assert.DoesNotContain("Brand-New", audit.ChangesJson ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_revokes_the_session_its_tokens_and_the_cookie()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "logout@example.com");
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();
        var tokens = await (await client.RedeemAsync(app, await client.CodeAsync(app, browser, "logout@example.com", pkce), pkce.Verifier)).ReadJsonAsync(200);
        var access = tokens["access_token"]!.GetValue<string>();
        await (await Userinfo(access)).ShouldBeAsync(200);

        var logout = await browser.GetAsync("/connect/logout?" + Query(
            ("id_token_hint", tokens["id_token"]!.GetValue<string>()), ("post_logout_redirect_uri", client.RedirectUri), ("state", "bye")));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        var target = logout.Headers.Location!;
        Assert.Equal(client.RedirectUri, target.GetLeftPart(UriPartial.Path));
        Assert.Equal("bye", QueryHelpers.ParseQuery(target.Query)["state"].ToString());

        Assert.Equal(HttpStatusCode.Unauthorized, (await Userinfo(access)).StatusCode);
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await client.RefreshAsync(app, tokens["refresh_token"]!.GetValue<string>())));
        var session = await app.DbAsync(db => db.UserSessions.AsNoTracking().SingleAsync(s => s.UserId == userId));
        Assert.NotNull(session.RevokedAt);

        // The cookie is gone too: the next authorization request asks for the password again.
        var next = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()));
        Assert.StartsWith($"/t/{client.Slug}/login?", next.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_without_a_return_address_shows_a_signed_out_page_and_unregistered_ones_are_refused()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "bye@example.com");
        using var browser = client.Browser(app);
        await client.CodeAsync(app, browser, "bye@example.com", Pkce.Create());

        var evil = await browser.GetAsync("/connect/logout?" + Query(("post_logout_redirect_uri", "https://evil.example.com/")));
        Assert.Equal(HttpStatusCode.BadRequest, evil.StatusCode);
        Assert.Null(evil.Headers.Location);
        Assert.Null(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).Select(s => s.RevokedAt).SingleAsync()));

        // Without an id_token_hint the user confirms first (RP-Initiated Logout, section 2; see LogoutConfirmationTests).
        var confirm = await (await browser.GetAsync("/connect/logout")).Content.ReadAsStringAsync();
        var page = await browser.PostAsync("/connect/logout", Forms.From(confirm));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("You have been signed out.", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HostedPagesTests.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.NotNull(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).Select(s => s.RevokedAt).SingleAsync()));
    }

    [Theory]
    [InlineData("""{"status": "DISABLED"}""")]
    [InlineData("""{"status": "ACTIVE", "terminate_sessions": true}""")]
    public async Task An_admin_status_change_stops_the_users_access_token_at_once(string body)
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, $"status{Guid.NewGuid():N}@example.com");
        var email = await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Email).SingleAsync());
        using var browser = client.Browser(app);
        var tokens = await client.SignInAsync(app, email, browser: browser);
        var access = tokens["access_token"]!.GetValue<string>();
        await (await Userinfo(access)).ShouldBeAsync(200);

        using (var admin = await app.AdminAsync())
        {
            await (await admin.PutAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}/status", HttpAssertions.Json(body))).ShouldBeAsync(200);
        }

        var refused = await Userinfo(access);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        // The browser's session ended with it: no silent code either.
        AssertErrorRedirect(client, await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=none")), "login_required");
    }

    // ---- helpers ----

    private Task<HttpResponseMessage> Userinfo(string accessToken)
    {
        var http = app.Anonymous();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return http.GetAsync("/connect/userinfo");
    }

    private static async Task<string> OAuthErrorAsync(HttpResponseMessage response) =>
        (await response.ReadJsonAsync(400))["error"]!.GetValue<string>();

    private static void AssertErrorRedirect(OidcTestClient client, HttpResponseMessage response, string error)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal(client.RedirectUri, location.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(error, query["error"].ToString());
        Assert.False(query.ContainsKey("code"));
    }

    private static async Task AssertInvalidRequestAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {response.Headers.Location}\n{body}");
        Assert.Null(response.Headers.Location);
        Assert.Contains("invalid_request", body, StringComparison.Ordinal);
    }

    private static string Query(params (string Name, string Value)[] parameters) =>
        string.Join('&', parameters.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}"));
}

/// <summary>A PKCE pair (RFC 7636): a random verifier and its S256 challenge.</summary>
internal sealed record Pkce(string Verifier, string Challenge)
{
    public static Pkce Create()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return new Pkce(verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }
}

internal static class Jwt
{
    public static JsonNode Payload(string jwt) => JsonNode.Parse(Base64UrlEncoder.Decode(jwt.Split('.')[1]))!;
}

/// <summary>Reads the hidden fields of a hosted form (CSRF token, return_url, link token) and fills in the rest.</summary>
internal static class Forms
{
    public static string Hidden(string html, string name)
    {
        var match = Regex.Match(html, $"<input type=\"hidden\" name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\" ?/?>");
        Assert.True(match.Success, $"no hidden field {name} in:\n{html}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>The form's hidden fields (except the password managers' username) plus the given ones.</summary>
    public static FormUrlEncodedContent From(string html, params (string Name, string Value)[] fields)
    {
        var values = Regex.Matches(html, "<input type=\"hidden\" name=\"([^\"]+)\" (?:autocomplete=\"[^\"]*\" )?value=\"([^\"]*)\" ?/?>")
            .Where(m => m.Groups[1].Value != "username")
            .ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        foreach (var (name, value) in fields)
        {
            values[name] = value;
        }

        return new FormUrlEncodedContent(values);
    }
}

/// <summary>
/// A tenant with a public (SPA) application using the code flow, and what a client application does: build the
/// authorization URL, take the code from the redirect, redeem and refresh it.
/// </summary>
internal sealed record OidcTestClient(string TenantId, string TenantName, string Slug, string ClientId, string RedirectUri)
{
    public const string Password = "Quartz-Lantern-93!";
    public const string Scope = "openid email profile offline_access groups";

    /// <summary>The application's id (for assignments and consents).</summary>
    public string ApplicationId { get; init; } = string.Empty;

    /// <summary>
    /// A new tenant and its SPA application. It asks no consent unless <paramref name="consentRequired"/>: the
    /// consent page is the subject of ConsentTests only; <paramref name="grantTypes"/> null keeps the SPA default.
    /// </summary>
    public static async Task<OidcTestClient> CreateAsync(
        ScaiKeyApp app, string redirectUri = "http://127.0.0.1:5173/callback", object? settings = null, bool consentRequired = false,
        bool assignmentRequired = false, bool firstParty = false, string[]? grantTypes = null)
    {
        var name = "Tenant " + Guid.NewGuid().ToString("N")[..8];
        var tenantId = await app.CreateTenantAsync(name, settings);
        using var admin = await app.AdminAsync();
        var tenant = await (await admin.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200);
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications", new
        {
            name = "Dashboard", type = "SPA", redirect_uris = new[] { redirectUri }, grant_types = grantTypes ?? ["authorization_code", "refresh_token"],
            consent_required = consentRequired, assignment_required = assignmentRequired, first_party = firstParty,
        })).ReadJsonAsync(201);
        return new OidcTestClient(tenantId, name, tenant["data"]!["slug"]!.GetValue<string>(),
            created["data"]!["client_id"]!.GetValue<string>(), redirectUri)
        {
            ApplicationId = created["data"]!["id"]!.GetValue<string>(),
        };
    }

    public async Task<string> CreateUserAsync(ScaiKeyApp app, string email, string? first = null, string? last = null) =>
        (await app.CreateUserAsync(TenantId, new { email, password = Password, first_name = first, last_name = last }))["id"]!.GetValue<string>();

    /// <summary>A browser: keeps cookies, does not follow redirects (each hop is asserted).</summary>
    public HttpClient Browser(ScaiKeyApp app) =>
        app.Host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public string AuthorizeUrl(Pkce pkce, string state = "state-1", string nonce = "nonce-1", string scope = Scope, string extra = "") =>
        "/connect/authorize?" + string.Join('&',
            $"client_id={ClientId}", "response_type=code", $"redirect_uri={Uri.EscapeDataString(RedirectUri)}",
            $"scope={Uri.EscapeDataString(scope)}", $"state={state}", $"nonce={nonce}",
            $"code_challenge={pkce.Challenge}", "code_challenge_method=S256") + extra;

    /// <summary>The code from the authorization endpoint's redirect to this client.</summary>
    public async Task<string> CodeFromAsync(HttpResponseMessage response, string expectedState)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"expected a redirect with a code, got {(int)response.StatusCode}\n{body}");
        var location = response.Headers.Location!;
        Assert.Equal(RedirectUri, location.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.True(query.ContainsKey("code"), $"no code in {location}");
        Assert.Equal(expectedState, query["state"].ToString());
        return query["code"].ToString();
    }

    /// <summary>authorize, the login page and its POST, authorize again: the code.</summary>
    public async Task<string> CodeAsync(ScaiKeyApp app, HttpClient browser, string email, Pkce pkce, string scope = Scope, string password = Password)
    {
        var first = await browser.GetAsync(AuthorizeUrl(pkce, scope: scope));
        if (first.StatusCode == HttpStatusCode.Redirect && first.Headers.Location!.OriginalString.StartsWith("/t/", StringComparison.Ordinal))
        {
            var login = first.Headers.Location!.OriginalString;
            var html = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
            var posted = await browser.PostAsync($"/t/{Slug}/login", Forms.From(html, ("email", email), ("password", password)));
            await posted.ShouldBeAsync(303);
            first = await browser.GetAsync(posted.Headers.Location!.OriginalString);
        }

        return await CodeFromAsync(first, expectedState: "state-1");
    }

    /// <summary>The whole flow in a fresh (or given) browser: the token response.</summary>
    public async Task<JsonNode> SignInAsync(ScaiKeyApp app, string email, string scope = Scope, HttpClient? browser = null, string password = Password)
    {
        using var own = browser is null ? Browser(app) : null;
        var pkce = Pkce.Create();
        var code = await CodeAsync(app, browser ?? own!, email, pkce, scope, password);
        return await (await RedeemAsync(app, code, pkce.Verifier)).ReadJsonAsync(200);
    }

    public Task<HttpResponseMessage> RedeemAsync(ScaiKeyApp app, string code, string? verifier)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["client_id"] = ClientId,
        };
        if (verifier is not null)
        {
            form["code_verifier"] = verifier;
        }

        return app.Anonymous().PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    public Task<HttpResponseMessage> RefreshAsync(ScaiKeyApp app, string refreshToken) =>
        app.Anonymous().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken, ["client_id"] = ClientId,
        }));
}
