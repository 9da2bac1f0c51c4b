using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The tenant's hosted pages: login (no enumeration, no open redirect, CSRF, rate limit), the reset and invitation
/// links from the outbox, unknown tenants, and the headers that keep scripts, frames and caches out.
/// </summary>
public sealed class HostedPagesTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

    // The login page offers passkeys: the service's own script, and fetching the ceremony options from itself.
    public const string LoginContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'";
    private const string NewPassword = "Velvet-Harbor-2718";

    [Fact]
    public async Task Every_page_forbids_scripts_frames_and_caching_and_is_accessible_html()
    {
        var client = await OidcTestClient.CreateAsync(app);
        using var browser = client.Browser(app);
        var login = (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString;
        var unregistered = "/connect/authorize?client_id=" + client.ClientId + "&redirect_uri=" + Uri.EscapeDataString("https://evil.example.com/cb");

        // The login page for an application may also submit to that application's registered origin (the browser
        // applies form-action to the redirects after the POST); nothing else may.
        foreach (var (path, status, csp) in new[]
        {
            (login, 200, LoginContentSecurityPolicy + " http://127.0.0.1:5173"),
            ($"/t/{client.Slug}/login?return_url={Uri.EscapeDataString(unregistered)}", 200, LoginContentSecurityPolicy),
            ($"/t/{client.Slug}/login", 200, LoginContentSecurityPolicy),
            ($"/t/{client.Slug}/reset-password?token=nope", 400, ContentSecurityPolicy),
            ("/t/no-such-tenant/login", 404, ContentSecurityPolicy),
        })
        {
            var response = await browser.GetAsync(path);
            var html = await response.Content.ReadAsStringAsync();
            Assert.True(status == (int)response.StatusCode, $"{path}: {(int)response.StatusCode}\n{html}");
            Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal(csp, response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            var scripts = Regex.Matches(html, "<script[^>]*>", RegexOptions.IgnoreCase).Select(m => m.Value).ToList();
            Assert.Equal(csp.Contains("script-src", StringComparison.Ordinal) ? ["<script src=\"/assets/passkeys.js\" defer>"] : [], scripts);
            Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);
            Assert.Contains("<html lang=\"en\">", html, StringComparison.Ordinal);
        }

        var page = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        Assert.Contains(client.TenantName, page, StringComparison.Ordinal);
        Assert.Contains("<label for=\"email\">", page, StringComparison.Ordinal);
        Assert.Contains("<label for=\"password\">", page, StringComparison.Ordinal);
        Assert.Contains("autocomplete=\"username\"", page, StringComparison.Ordinal);
        Assert.Contains("autocomplete=\"current-password\"", page, StringComparison.Ordinal);
        Assert.Contains("aria-live=\"assertive\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_email_and_a_wrong_password_get_the_same_page()
    {
        var client = await OidcTestClient.CreateAsync(app);
        await client.CreateUserAsync(app, "known@example.com");
        using var browser = client.Browser(app);
        var login = (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString;
        var html = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();

        async Task<string> AttemptAsync(string email, string password)
        {
            var response = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", email), ("password", password)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Null(response.Headers.Location);

            // The form echoes the typed email; everything else must be identical.
            return (await response.Content.ReadAsStringAsync()).Replace(email, "EMAIL", StringComparison.Ordinal);
        }

        var wrongPassword = await AttemptAsync("known@example.com", "Not-The-Password-1");
        var unknownEmail = await AttemptAsync("unknown@example.com", "Not-The-Password-1");
        Assert.Equal(wrongPassword, unknownEmail);
        Assert.Contains("Invalid email or password.", wrongPassword, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.example.com/")]
    [InlineData("//evil.example.com/connect/authorize?x=1")]
    [InlineData("/\\evil.example.com")]
    [InlineData("/connect/authorizeX?client_id=x")]
    [InlineData("/api/v1/admin/tenants?x=1")]
    [InlineData("javascript:alert(1)")]
    public async Task A_return_url_outside_the_authorization_endpoint_is_refused(string returnUrl)
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "redirect@example.com");
        using var browser = client.Browser(app);
        var good = (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString;
        var html = await (await browser.GetAsync(good)).Content.ReadAsStringAsync();

        var page = await browser.GetAsync($"/t/{client.Slug}/login?return_url={Uri.EscapeDataString(returnUrl)}");
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);

        var posted = await browser.PostAsync($"/t/{client.Slug}/login",
            Forms.From(html, ("return_url", returnUrl), ("email", "redirect@example.com"), ("password", OidcTestClient.Password)));
        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        Assert.Null(posted.Headers.Location);
        Assert.Empty(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).ToListAsync()));

        // Control: the same form with its own return_url goes back to the authorization endpoint.
        var accepted = await browser.PostAsync($"/t/{client.Slug}/login",
            Forms.From(html, ("email", "redirect@example.com"), ("password", OidcTestClient.Password)));
        Assert.Equal(HttpStatusCode.SeeOther, accepted.StatusCode);
        Assert.StartsWith("/connect/authorize?", accepted.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_login_post_without_the_forms_csrf_token_or_cookie_is_refused()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "csrf@example.com");
        using var browser = client.Browser(app);
        var html = await (await browser.GetAsync($"/t/{client.Slug}/login")).Content.ReadAsStringAsync();
        var token = Forms.Hidden(html, "form_token");

        var noToken = await browser.PostAsync($"/t/{client.Slug}/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "csrf@example.com", ["password"] = OidcTestClient.Password,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);

        // A token copied into another browser (a forged cross-site post carries no cookie) is refused too.
        using var attacker = client.Browser(app);
        var noCookie = await attacker.PostAsync($"/t/{client.Slug}/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["form_token"] = token, ["email"] = "csrf@example.com", ["password"] = OidcTestClient.Password,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, noCookie.StatusCode);
        Assert.Empty(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).ToListAsync()));

        // Control: the browser that got the form signs in with it (no return_url: a "signed in" page).
        var signedIn = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "csrf@example.com"), ("password", OidcTestClient.Password)));
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Contains("You are signed in.", await signedIn.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Single(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).ToListAsync()));
    }

    [Fact]
    public async Task An_unknown_or_deleted_tenant_is_a_404_page()
    {
        using var browser = app.Anonymous();
        foreach (var path in new[] { "/t/no-such-tenant/login", "/t/no-such-tenant/reset-password?token=x", "/t/no-such-tenant/accept-invitation" })
        {
            var response = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("There is no sign-in page at this address.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var client = await OidcTestClient.CreateAsync(app);
        await (await browser.GetAsync($"/t/{client.Slug}/login")).ShouldBeAsync(200);
        using (var admin = await app.AdminAsync())
        {
            await (await admin.DeleteAsync($"/api/v1/admin/tenants/{client.TenantId}")).ShouldBeAsync(204);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/t/{client.Slug}/login")).StatusCode);
    }

    [Fact]
    public async Task A_reset_link_sets_the_password_once_and_ends_the_users_sessions()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "reset@example.com");
        var before = await client.SignInAsync(app, "reset@example.com");
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}/password/reset", new { method = "EMAIL" })).ShouldBeAsync(200);
        }

        var link = await LinkAsync("reset@example.com", "password_reset");
        Assert.StartsWith($"/t/{client.Slug}/reset-password?token=", link, StringComparison.Ordinal);
        using var browser = client.Browser(app);
        var page = await browser.GetAsync(link);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("reset@example.com", html, StringComparison.Ordinal);
        Assert.Contains("autocomplete=\"new-password\"", html, StringComparison.Ordinal);

        // A password the policy refuses leaves the link usable.
        var weak = await browser.PostAsync($"/t/{client.Slug}/reset-password", Forms.From(html, ("new_password", "password123456"), ("confirm_password", "password123456")));
        Assert.Contains("too common", await weak.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var done = await browser.PostAsync($"/t/{client.Slug}/reset-password", Forms.From(html, ("new_password", NewPassword), ("confirm_password", NewPassword)));
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Contains("Your password is set.", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var stored = await app.DbAsync(async db => new
        {
            User = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId),
            Token = await db.UserActionTokens.AsNoTracking().SingleAsync(t => t.UserId == userId && t.Purpose == "PASSWORD_RESET"),
            Sessions = await db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).ToListAsync(),
            Audit = await db.AuditEvents.AsNoTracking().CountAsync(e => e.TargetId == userId && e.Action == "user.password_reset_completed"),
        });
        Assert.NotNull(stored.Token.UsedAt);
        Assert.NotNull(stored.User.PasswordChangedAt);
        Assert.False(stored.User.RequirePasswordChange);
        Assert.All(stored.Sessions, s => Assert.NotNull(s.RevokedAt));
        Assert.Equal(1, stored.Audit);
        Assert.Equal("invalid_grant", (await (await client.RefreshAsync(app, before["refresh_token"]!.GetValue<string>())).ReadJsonAsync(400))["error"]!.GetValue<string>());

        // The new password signs in; the link is spent.
        await client.SignInAsync(app, "reset@example.com", browser: null, password: NewPassword);
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(link)).StatusCode);
        var replay = await browser.PostAsync($"/t/{client.Slug}/reset-password", Forms.From(html, ("new_password", "Another-Harbor-3141"), ("confirm_password", "Another-Harbor-3141")));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("This link is not valid", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_foreign_and_made_up_links_show_an_error_page()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var other = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "expired@example.com");
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}/password/reset", new { method = "EMAIL" })).ShouldBeAsync(200);
        }

        var link = await LinkAsync("expired@example.com", "password_reset");
        var token = link[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..];
        using var browser = client.Browser(app);
        foreach (var path in new[]
        {
            $"/t/{other.Slug}/reset-password?token={token}", // another tenant's page
            $"/t/{client.Slug}/accept-invitation?token={token}", // another purpose
            $"/t/{client.Slug}/reset-password?token=made-up",
            $"/t/{client.Slug}/reset-password?token=" + new string('a', 5000),
            $"/t/{client.Slug}/reset-password",
        })
        {
            var response = await browser.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode}");
            Assert.Contains("This link is not valid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Control: the link works on its own page, until it expires.
        await (await browser.GetAsync(link)).ShouldBeAsync(200);
        await app.DbAsync(db => db.UserActionTokens.Where(t => t.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(link)).StatusCode);
    }

    [Fact]
    public async Task An_invitation_link_sets_the_password_verifies_the_email_and_activates_the_user()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var created = await app.CreateUserAsync(client.TenantId, new { email = "invited@example.com", send_welcome_email = true });
        var userId = created["id"]!.GetValue<string>();
        Assert.Equal("PENDING_EMAIL_VERIFICATION", created["status"]!.GetValue<string>());

        var link = await LinkAsync("invited@example.com", "invitation");
        Assert.StartsWith($"/t/{client.Slug}/accept-invitation?token=", link, StringComparison.Ordinal);
        using var browser = client.Browser(app);
        var html = await (await browser.GetAsync(link)).Content.ReadAsStringAsync();
        var mismatch = await browser.PostAsync($"/t/{client.Slug}/accept-invitation", Forms.From(html, ("new_password", NewPassword), ("confirm_password", NewPassword + "x")));
        Assert.Contains("do not match", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var done = await browser.PostAsync($"/t/{client.Slug}/accept-invitation", Forms.From(html, ("new_password", NewPassword), ("confirm_password", NewPassword)));
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);

        var user = await app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == userId));
        Assert.Equal(UserStatus.Active, user.Status);
        Assert.True(user.EmailVerified);
        Assert.StartsWith("$argon2id$", user.PasswordHash, StringComparison.Ordinal);
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.invitation_accepted")));

        var tokens = await client.SignInAsync(app, "invited@example.com", password: NewPassword);
        Assert.True(Jwt.Payload(tokens["id_token"]!.GetValue<string>())["email_verified"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(link)).StatusCode);
    }

    [Fact]
    public async Task Too_many_login_attempts_get_429_with_retry_after()
    {
        var client = await OidcTestClient.CreateAsync(app);
        await client.CreateUserAsync(app, "limited@example.com");
        var strict = app.StartHost(b => b.UseSetting("ScaiKey:RateLimits:PerAccountPerMinute", "2"));
        try
        {
            using var browser = strict.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            var html = await (await browser.GetAsync($"/t/{client.Slug}/login")).Content.ReadAsStringAsync();
            for (var i = 0; i < 2; i++)
            {
                var wrong = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "limited@example.com"), ("password", "Wrong-Password-000")));
                Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            }

            var limited = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "LIMITED@example.com"), ("password", OidcTestClient.Password)));
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Contains("Too many sign-in attempts", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // Another account from the same browser is not limited by this one's attempts.
            await client.CreateUserAsync(app, "other@example.com");
            var other = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "other@example.com"), ("password", OidcTestClient.Password)));
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.Contains("You are signed in.", await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopHostAsync(strict);
        }
    }

    /// <summary>The path and query of the link in the newest queued email of that kind to that address.</summary>
    private async Task<string> LinkAsync(string email, string kind)
    {
        var message = await app.DbAsync(db => db.EmailOutbox.AsNoTracking()
            .Where(m => m.ToAddress == email && m.Kind == kind).OrderByDescending(m => m.CreatedAt).FirstAsync());
        var url = System.Text.RegularExpressions.Regex.Match(app.OutboxBody(message), @"https?://\S+").Value;
        return new Uri(url).PathAndQuery;
    }
}
