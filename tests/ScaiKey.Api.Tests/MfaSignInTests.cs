using System.Net;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The hosted pages' second factor: after the password a user with a factor gets no session but a pending step
/// (/mfa), completed by a TOTP or recovery code; wrong codes count toward lockout and end the step; the code
/// flow's ID token then says how (amr) and when (auth_time) the user signed in.
/// </summary>
public sealed class MfaSignInTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>, IAsyncLifetime
{
    private MfaHost _host = null!;

    public Task InitializeAsync()
    {
        _host = new MfaHost(app);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<List<UserSession>> SessionsAsync(string userId) =>
        app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).ToListAsync());

    /// <summary>authorize, the login page and its POST: the answer to the POST.</summary>
    private static async Task<HttpResponseMessage> PasswordStepAsync(OidcTestClient client, HttpClient browser, Pkce pkce, string email)
    {
        var login = (await browser.GetAsync(client.AuthorizeUrl(pkce))).Headers.Location!.OriginalString;
        var html = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        return await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", email), ("password", OidcTestClient.Password)));
    }

    private static async Task<HttpResponseMessage> SubmitAsync(HttpClient browser, string page, params (string Name, string Value)[] fields)
    {
        var html = await (await browser.GetAsync(page)).Content.ReadAsStringAsync();
        return await browser.PostAsync(page.Split('?')[0], Forms.From(html, fields));
    }

    private async Task<JsonNode> RedeemAsync(OidcTestClient client, HttpResponseMessage toAuthorize, HttpClient browser, Pkce pkce)
    {
        Assert.True(toAuthorize.StatusCode == HttpStatusCode.SeeOther, $"{(int)toAuthorize.StatusCode}\n{await toAuthorize.Content.ReadAsStringAsync()}");
        var location = toAuthorize.Headers.Location!.OriginalString;
        Assert.StartsWith("/connect/authorize?", location, StringComparison.Ordinal);
        var code = await client.CodeFromAsync(await browser.GetAsync(location), expectedState: "state-1");
        using var http = _host.Client();
        return await (await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = client.RedirectUri, ["client_id"] = client.ClientId,
            ["code_verifier"] = pkce.Verifier,
        }))).ReadJsonAsync(200);
    }

    private static IEnumerable<string> Amr(JsonNode tokens) =>
        Jwt.Payload(tokens["id_token"]!.GetValue<string>())["amr"]!.AsArray().Select(a => a!.GetValue<string>());

    [Fact]
    public async Task A_user_with_a_factor_signs_in_with_password_then_code_and_the_id_token_says_so()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "ada@example.com");
        var plainId = await client.CreateUserAsync(app, "plain@example.com");
        var totp = await _host.EnrolAsync(client.TenantId, userId);

        // Control: without a factor the password signs in at once, amr ["pwd"], auth_time the session's start.
        using (var plain = _host.Browser())
        {
            var pkce = Pkce.Create();
            var tokens = await RedeemAsync(client, await PasswordStepAsync(client, plain, pkce, "plain@example.com"), plain, pkce);
            Assert.Equal(["pwd"], Amr(tokens));
            Assert.Equal(_host.Clock.GetUtcNow().ToUnixTimeSeconds(), Jwt.Payload(tokens["id_token"]!.GetValue<string>())["auth_time"]!.GetValue<long>());
        }

        using var browser = _host.Browser();
        var flow = Pkce.Create();
        var posted = await PasswordStepAsync(client, browser, flow, "ada@example.com");
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal($"/t/{client.Slug}/mfa", posted.Headers.Location!.OriginalString);
        var cookie = posted.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("scaikey_mfa=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"path=/t/{client.Slug}/", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(posted.Headers.GetValues("Set-Cookie"), c => c.StartsWith("scaikey_signin=", StringComparison.Ordinal));

        // Between the steps: no session, and the authorization endpoint still wants a sign-in.
        Assert.Empty(await SessionsAsync(userId));
        var pending = await app.DbAsync(db => db.MfaChallenges.AsNoTracking().SingleAsync(c => c.UserId == userId));
        Assert.Equal("HOSTED_SIGN_IN", pending.Purpose);
        Assert.StartsWith($"/t/{client.Slug}/login", (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString, StringComparison.Ordinal);

        var page = await browser.GetAsync($"/t/{client.Slug}/mfa");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("autocomplete=\"one-time-code\"", html, StringComparison.Ordinal);
        Assert.Contains("Use a recovery code", html, StringComparison.Ordinal);
        Assert.Equal(HostedPagesTests.ContentSecurityPolicy + " http://127.0.0.1:5173", page.Headers.GetValues("Content-Security-Policy").Single());

        var wrong = await browser.PostAsync($"/t/{client.Slug}/mfa", Forms.From(html, ("code", "000000")));
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("That code is not right.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var done = await browser.PostAsync($"/t/{client.Slug}/mfa", Forms.From(html, ("code", _host.Code(totp))));
        var tokens2 = await RedeemAsync(client, done, browser, flow);
        var id = Jwt.Payload(tokens2["id_token"]!.GetValue<string>());
        Assert.Equal(userId, id["sub"]!.GetValue<string>());
        Assert.Equal(["pwd", "otp", "mfa"], Amr(tokens2));
        Assert.Equal(_host.Clock.GetUtcNow().ToUnixTimeSeconds(), id["auth_time"]!.GetValue<long>());
        var session = Assert.Single(await SessionsAsync(userId));
        Assert.Equal("pwd otp mfa", session.Amr);
        Assert.Equal(0, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.FailedLoginAttempts).SingleAsync()));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.signed_in" && e.Reason == "amr=pwd otp mfa")));

        // The step is used up: the page sends the browser back to the login page.
        var after = await browser.GetAsync($"/t/{client.Slug}/mfa");
        Assert.StartsWith($"/t/{client.Slug}/login", after.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_recovery_code_completes_the_step_with_amr_pwd_mfa()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "grace@example.com");
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var browser = _host.Browser();
        var pkce = Pkce.Create();
        await (await PasswordStepAsync(client, browser, pkce, "grace@example.com")).ShouldBeAsync(303);

        var page = await (await browser.GetAsync($"/t/{client.Slug}/mfa?method=recovery")).Content.ReadAsStringAsync();
        Assert.Contains("name=\"recovery_code\"", page, StringComparison.Ordinal);
        var used = await browser.PostAsync($"/t/{client.Slug}/mfa", Forms.From(page, ("recovery_code", "nope-nope")));
        Assert.Contains("That recovery code is not right", await used.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var tokens = await RedeemAsync(client, await browser.PostAsync($"/t/{client.Slug}/mfa", Forms.From(page, ("recovery_code", totp.RecoveryCodes[3]))), browser, pkce);
        Assert.Equal(["pwd", "mfa"], Amr(tokens));
        Assert.Equal("pwd mfa", Assert.Single(await SessionsAsync(userId)).Amr);
        Assert.Equal(["wrong_recovery_code"], await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == userId && e.Action == "user.sign_in_failed")
            .Select(e => e.Reason).ToListAsync()));
    }

    [Fact]
    public async Task Wrong_codes_on_the_page_lock_the_account_at_the_tenants_limit()
    {
        var client = await OidcTestClient.CreateAsync(app, settings: new { lockout_policy = new { max_failed_attempts = 3, lockout_duration_minutes = 15 } });
        var userId = await client.CreateUserAsync(app, "hedy@example.com");
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var browser = _host.Browser();
        await (await PasswordStepAsync(client, browser, Pkce.Create(), "hedy@example.com")).ShouldBeAsync(303);

        for (var i = 0; i < 3; i++)
        {
            await SubmitAsync(browser, $"/t/{client.Slug}/mfa", ("code", "99999" + i));
        }

        Assert.Equal(UserStatus.Locked, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Status).SingleAsync()));
        Assert.Equal(["wrong_otp", "wrong_otp", "wrong_otp"], await app.DbAsync(db => db.AuditEvents
            .Where(e => e.TargetId == userId && e.Action == "user.sign_in_failed").Select(e => e.Reason).ToListAsync()));

        // Locked: the right code ends the step instead of signing in.
        var right = await SubmitAsync(browser, $"/t/{client.Slug}/mfa", ("code", _host.Code(totp)));
        Assert.Equal(HttpStatusCode.SeeOther, right.StatusCode);
        Assert.StartsWith($"/t/{client.Slug}/login", right.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Empty(await SessionsAsync(userId));
    }

    [Fact]
    public async Task Too_many_wrong_codes_end_the_step_and_the_password_is_needed_again()
    {
        var client = await OidcTestClient.CreateAsync(app, settings: new { lockout_policy = new { max_failed_attempts = 50, lockout_duration_minutes = 15 } });
        var userId = await client.CreateUserAsync(app, "ken@example.com");
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var browser = _host.Browser();
        await (await PasswordStepAsync(client, browser, Pkce.Create(), "ken@example.com")).ShouldBeAsync(303);

        HttpResponseMessage last = null!;
        for (var i = 0; i < 5; i++)
        {
            last = await SubmitAsync(browser, $"/t/{client.Slug}/mfa", ("code", "12345" + i));
        }

        Assert.Equal(HttpStatusCode.SeeOther, last.StatusCode);
        Assert.StartsWith($"/t/{client.Slug}/login", last.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var page = await browser.GetAsync($"/t/{client.Slug}/mfa");
        Assert.StartsWith($"/t/{client.Slug}/login", page.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Empty(await SessionsAsync(userId));

        // Control: the password again opens a new step, which takes the code.
        var pkce = Pkce.Create();
        await (await PasswordStepAsync(client, browser, pkce, "ken@example.com")).ShouldBeAsync(303);
        Assert.Equal(["pwd", "otp", "mfa"], Amr(await RedeemAsync(client, await SubmitAsync(browser, $"/t/{client.Slug}/mfa", ("code", _host.Code(totp))), browser, pkce)));
    }

    [Fact]
    public async Task The_step_belongs_to_the_browser_that_gave_the_password_and_expires()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "alan@example.com");
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var browser = _host.Browser();
        await (await PasswordStepAsync(client, browser, Pkce.Create(), "alan@example.com")).ShouldBeAsync(303);
        var html = await (await browser.GetAsync($"/t/{client.Slug}/mfa")).Content.ReadAsStringAsync();

        // Another browser, even with the form's fields, has no step.
        using var other = _host.Browser();
        var stranger = await other.PostAsync($"/t/{client.Slug}/mfa", Forms.From(html, ("code", _host.Code(totp))));
        Assert.Equal(HttpStatusCode.SeeOther, stranger.StatusCode);
        Assert.StartsWith($"/t/{client.Slug}/login", stranger.Headers.Location!.OriginalString, StringComparison.Ordinal);

        _host.Clock.Advance(TimeSpan.FromMinutes(5).Add(TimeSpan.FromSeconds(1)));
        var late = await browser.PostAsync($"/t/{client.Slug}/mfa", Forms.From(html, ("code", _host.Code(totp))));
        Assert.StartsWith($"/t/{client.Slug}/login", late.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Empty(await SessionsAsync(userId));
    }
}
