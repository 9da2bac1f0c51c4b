using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using OtpNet;
using ScaiKey.Api.Mfa;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The tenant's mfa_policy.required: a user without a factor is taken to enrolment after the password on the hosted
/// pages (QR code, secret, first code, recovery codes once) and gets no session and no tokens until enrolled; the
/// password grant answers mfa_enrollment_required.
/// </summary>
public sealed class MfaPolicyTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>, IAsyncLifetime
{
    private static readonly object Required = new { mfa_policy = new { required = true } };
    private MfaHost _host = null!;

    public Task InitializeAsync()
    {
        _host = new MfaHost(app);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<List<UserSession>> SessionsAsync(string userId) =>
        app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).ToListAsync());

    private static async Task<HttpResponseMessage> PasswordStepAsync(OidcTestClient client, HttpClient browser, Pkce pkce, string email)
    {
        var login = (await browser.GetAsync(client.AuthorizeUrl(pkce))).Headers.Location!.OriginalString;
        var html = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        return await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", email), ("password", OidcTestClient.Password)));
    }

    private static byte[] SecretFrom(string html)
    {
        var match = Regex.Match(html, "<p class=\"secret\"><strong>([A-Z2-7 ]+)</strong></p>");
        Assert.True(match.Success, html);
        return Base32Encoding.ToBytes(match.Groups[1].Value.Replace(" ", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_enrolment_step_held_with_the_password_alone_ends_when_the_user_enrols_elsewhere()
    {
        var client = await OidcTestClient.CreateAsync(app, settings: Required);
        var userId = await client.CreateUserAsync(app, "victim@example.com");

        // Someone who knows only the password holds an enrolment step open...
        using var attacker = _host.Browser();
        var posted = await PasswordStepAsync(client, attacker, Pkce.Create(), "victim@example.com");
        Assert.Equal($"/t/{client.Slug}/mfa/enroll", posted.Headers.Location!.OriginalString);
        var html = await (await attacker.GetAsync($"/t/{client.Slug}/mfa/enroll")).Content.ReadAsStringAsync();
        var stale = await (await attacker.GetAsync($"/t/{client.Slug}/mfa/enroll")).Content.ReadAsStringAsync();

        // ...while the user enrols in their own browser.
        await _host.EnrolAsync(client.TenantId, userId);
        var codesBefore = await app.DbAsync(db => db.MfaRecoveryCodes.AsNoTracking().Where(r => r.UserId == userId).Select(r => r.CodeHash).ToListAsync());

        // The held step neither signs in on the user's factor nor enrols one of its own (replacing their recovery codes).
        var done = await attacker.PostAsync($"/t/{client.Slug}/mfa/enroll/done", Forms.From(html));
        Assert.NotEqual(HttpStatusCode.OK, done.StatusCode);
        Assert.Empty(await SessionsAsync(userId));
        var page = await attacker.GetAsync($"/t/{client.Slug}/mfa/enroll");
        Assert.StartsWith($"/t/{client.Slug}/login", page.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var secret = SecretFrom(stale);
        var confirm = await attacker.PostAsync($"/t/{client.Slug}/mfa/enroll",
            Forms.From(stale, ("code", TotpCodes.Compute(secret, _host.Clock.GetUtcNow().UtcDateTime))));
        Assert.Equal(HttpStatusCode.SeeOther, confirm.StatusCode);
        Assert.Empty(await SessionsAsync(userId));
        Assert.Equal(codesBefore, await app.DbAsync(db => db.MfaRecoveryCodes.AsNoTracking().Where(r => r.UserId == userId).Select(r => r.CodeHash).ToListAsync()));
        Assert.Equal(1, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == userId && f.ConfirmedAt != null)));
    }

    [Fact]
    public async Task A_user_without_a_factor_enrols_after_the_password_and_only_then_signs_in()
    {
        var client = await OidcTestClient.CreateAsync(app, settings: Required);
        var userId = await client.CreateUserAsync(app, "ada@example.com");
        using var browser = _host.Browser();
        var pkce = Pkce.Create();

        var posted = await PasswordStepAsync(client, browser, pkce, "ada@example.com");
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal($"/t/{client.Slug}/mfa/enroll", posted.Headers.Location!.OriginalString);
        Assert.Empty(await SessionsAsync(userId));
        Assert.StartsWith($"/t/{client.Slug}/login", (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString, StringComparison.Ordinal);

        var page = await browser.GetAsync($"/t/{client.Slug}/mfa/enroll");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<svg role=\"img\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        var secret = SecretFrom(html);

        // A wrong first code keeps the same secret on the page and signs nobody in.
        var wrong = await browser.PostAsync($"/t/{client.Slug}/mfa/enroll", Forms.From(html, ("code", "000000")));
        var again = await wrong.Content.ReadAsStringAsync();
        Assert.Contains("That code is not right.", again, StringComparison.Ordinal);
        Assert.Equal(secret, SecretFrom(again));

        var confirmed = await browser.PostAsync($"/t/{client.Slug}/mfa/enroll",
            Forms.From(html, ("code", TotpCodes.Compute(secret, _host.Clock.GetUtcNow().UtcDateTime))));
        var codesPage = await confirmed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var codes = Regex.Matches(codesPage, "<li>([0-9A-Z]{5}-[0-9A-Z]{5})</li>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(10, codes.Count);

        // Enrolled, but the sign-in finishes only with Continue.
        Assert.Empty(await SessionsAsync(userId));
        Assert.True(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.MfaEnabled).SingleAsync()));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.ActorId == userId && e.Action == "user.mfa_factor_enrolled")));

        var done = await browser.PostAsync($"/t/{client.Slug}/mfa/enroll/done", Forms.From(codesPage));
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        var code = await client.CodeFromAsync(await browser.GetAsync(done.Headers.Location!.OriginalString), expectedState: "state-1");
        using var http = _host.Client();
        var tokens = await (await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = client.RedirectUri, ["client_id"] = client.ClientId,
            ["code_verifier"] = pkce.Verifier,
        }))).ReadJsonAsync(200);
        Assert.Equal(["pwd", "otp", "mfa"], Jwt.Payload(tokens["id_token"]!.GetValue<string>())["amr"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal("pwd otp mfa", Assert.Single(await SessionsAsync(userId)).Amr);

        // The next sign-in asks for the factor, and one of the codes shown works.
        using var next = _host.Browser();
        var nextStep = await PasswordStepAsync(client, next, Pkce.Create(), "ada@example.com");
        Assert.Equal($"/t/{client.Slug}/mfa", nextStep.Headers.Location!.OriginalString);
        var form = await (await next.GetAsync($"/t/{client.Slug}/mfa?method=recovery")).Content.ReadAsStringAsync();
        var recovered = await next.PostAsync($"/t/{client.Slug}/mfa", Forms.From(form, ("recovery_code", codes[0])));
        Assert.Equal(HttpStatusCode.SeeOther, recovered.StatusCode);
        Assert.StartsWith("/connect/authorize?", recovered.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Continue_without_a_confirmed_factor_goes_back_to_enrolment()
    {
        var client = await OidcTestClient.CreateAsync(app, settings: Required);
        var userId = await client.CreateUserAsync(app, "grace@example.com");
        using var browser = _host.Browser();
        await (await PasswordStepAsync(client, browser, Pkce.Create(), "grace@example.com")).ShouldBeAsync(303);
        var html = await (await browser.GetAsync($"/t/{client.Slug}/mfa/enroll")).Content.ReadAsStringAsync();

        var skipped = await browser.PostAsync($"/t/{client.Slug}/mfa/enroll/done", Forms.From(html));
        Assert.Equal(HttpStatusCode.SeeOther, skipped.StatusCode);
        Assert.Equal($"/t/{client.Slug}/mfa/enroll", skipped.Headers.Location!.OriginalString);
        Assert.Empty(await SessionsAsync(userId));
    }

    [Fact]
    public async Task Without_the_policy_a_user_without_a_factor_signs_in_with_the_password_alone()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "linus@example.com");
        using var browser = _host.Browser();
        var posted = await PasswordStepAsync(client, browser, Pkce.Create(), "linus@example.com");
        Assert.StartsWith("/connect/authorize?", posted.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal("pwd", Assert.Single(await SessionsAsync(userId)).Amr);
    }

    [Fact]
    public async Task The_password_grant_answers_mfa_enrollment_required_under_the_policy_only()
    {
        var required = await GrantClient.CreateAsync(app, Required);
        var optional = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(required.TenantId, "mary@example.com", GrantClient.Password);
        await app.CreateUserIdAsync(optional.TenantId, "mary@example.com", GrantClient.Password);
        using var http = _host.Client();

        var refused = await (await required.PasswordAsync(http, "mary@example.com")).ReadJsonAsync(400);
        Assert.Equal("mfa_enrollment_required", refused["error"]!.GetValue<string>());
        Assert.Empty(await SessionsAsync(userId));
        await (await optional.PasswordAsync(http, "mary@example.com")).ShouldBeAsync(200);
    }
}
