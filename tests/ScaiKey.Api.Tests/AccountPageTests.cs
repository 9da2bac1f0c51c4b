using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Mfa;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The hosted account page /t/{slug}/account (issue 14, point 7) over HTTP, as a browser uses it: the sign-in cookie,
/// forms with their CSRF token, the login round trip, TOTP enrolment with a QR code, recovery codes, the
/// recent-sign-in rule and sessions.
/// </summary>
public sealed class AccountPageTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string NewPassword = "Saffron-Orbit-4417!";

    private static HttpClient Browser(ScaiKeyHost host) =>
        host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static async Task<string> HtmlAsync(HttpResponseMessage response, int status = 200)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode} for {response.RequestMessage?.RequestUri}\n{html}");
        return html;
    }

    /// <summary>
    /// Signs in on the login page with return_url back to the account page (through the second-factor step with a
    /// code from <paramref name="totp"/> when the user has a factor), and opens it.
    /// </summary>
    private static async Task<string> SignInAsync(
        HttpClient browser, string slug, string email, string password = AccountApp.Password, (byte[] Secret, DateTime Now)? totp = null)
    {
        var account = $"/t/{slug}/account";
        var login = await HtmlAsync(await browser.GetAsync($"/t/{slug}/login?return_url={Uri.EscapeDataString(account)}"));
        var posted = await browser.PostAsync($"/t/{slug}/login", Forms.From(login, ("email", email), ("password", password)));
        Assert.True(posted.StatusCode == HttpStatusCode.SeeOther, await posted.Content.ReadAsStringAsync());
        if (totp is { } factor)
        {
            Assert.Equal($"/t/{slug}/mfa", posted.Headers.Location!.OriginalString);
            var step = await HtmlAsync(await browser.GetAsync($"/t/{slug}/mfa"));
            posted = await browser.PostAsync($"/t/{slug}/mfa", Forms.From(step, ("code", TotpCodes.Compute(factor.Secret, factor.Now))));
            Assert.True(posted.StatusCode == HttpStatusCode.SeeOther, await posted.Content.ReadAsStringAsync());
        }

        Assert.Equal(account, posted.Headers.Location!.OriginalString);
        return await HtmlAsync(await browser.GetAsync(account));
    }

    /// <summary>Posts one of the page's forms: its CSRF token from <paramref name="page"/> plus the fields.</summary>
    private static Task<HttpResponseMessage> SubmitAsync(HttpClient browser, string slug, string action, string page, params (string Name, string Value)[] fields)
    {
        var values = new Dictionary<string, string> { ["form_token"] = Forms.Hidden(page, "form_token") };
        foreach (var (name, value) in fields)
        {
            values[name] = value;
        }

        return browser.PostAsync($"/t/{slug}/account/{action}", new FormUrlEncodedContent(values));
    }

    private static string Secret(string html) =>
        Regex.Match(html, "<span class=\"secret\">([A-Z2-7 ]+)</span>").Groups[1].Value.Replace(" ", "", StringComparison.Ordinal);

    private static List<string> Codes(string html) =>
        [.. Regex.Matches(html, "<li>([A-Z0-9]{5}-[A-Z0-9]{5})</li>").Select(m => m.Groups[1].Value)];

    private static async Task<(string FactorId, byte[] Secret)> EnrolAsync(HttpClient browser, string slug, string page, DateTime now)
    {
        var enrolment = await HtmlAsync(await SubmitAsync(browser, slug, "totp", page, ("name", "Phone")));
        var secret = OtpNet.Base32Encoding.ToBytes(Secret(enrolment));
        var factorId = Forms.Hidden(enrolment, "factor_id");
        var codes = await HtmlAsync(await SubmitAsync(browser, slug, "totp/confirm", enrolment, ("factor_id", factorId), ("code", TotpCodes.Compute(secret, now))));
        Assert.Equal(10, Codes(codes).Count);
        return (factorId, secret);
    }

    [Fact]
    public async Task Without_a_sign_in_the_page_sends_the_browser_to_log_in_and_back_and_no_other_return_url_is_taken()
    {
        var portal = await AccountApp.CreateAsync(app);
        var other = await AccountApp.CreateAsync(app);
        var (_, email) = await portal.CreateUserAsync(app);
        using var browser = Browser(app.Host);

        var redirect = await browser.GetAsync($"/t/{portal.Slug}/account");
        Assert.Equal(HttpStatusCode.SeeOther, redirect.StatusCode);
        Assert.Equal($"/t/{portal.Slug}/login?return_url={Uri.EscapeDataString($"/t/{portal.Slug}/account")}", redirect.Headers.Location!.OriginalString);

        // Only this tenant's account pages are return URLs; another tenant's, a path escaping it or another host are not.
        foreach (var bad in new[] { $"/t/{other.Slug}/account", $"/t/{portal.Slug}/account/../login", $"/t/{portal.Slug}/account//evil.example.com", "https://evil.example.com/t/x/account" })
        {
            await HtmlAsync(await browser.GetAsync($"/t/{portal.Slug}/login?return_url={Uri.EscapeDataString(bad)}"), 400);
        }

        await HtmlAsync(await browser.GetAsync($"/t/{portal.Slug}/login?return_url={Uri.EscapeDataString($"/t/{portal.Slug}/account/passkeys")}"));

        var page = await SignInAsync(browser, portal.Slug, email);
        Assert.Contains(email, page, StringComparison.Ordinal);
        Assert.Contains("autocomplete=\"current-password\"", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/t/{portal.Slug}/account/passkeys\">Add a passkey</a>", page, StringComparison.Ordinal);
        Assert.Contains("(this browser)", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        var response = await browser.GetAsync($"/t/{portal.Slug}/account");
        Assert.Equal(HostedPagesTests.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
    }

    [Fact]
    public async Task The_page_enrols_an_authenticator_app_with_a_qr_code_and_shows_recovery_codes_once()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        using var browser = Browser(app.Host);
        var page = await SignInAsync(browser, portal.Slug, email);

        var enrolment = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "totp", page, ("name", "Phone")));
        Assert.Contains("<svg", enrolment, StringComparison.Ordinal);
        var secretText = Secret(enrolment);
        Assert.Equal(32, secretText.Length);
        var secret = OtpNet.Base32Encoding.ToBytes(secretText);
        var factorId = Forms.Hidden(enrolment, "factor_id");

        var wrong = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "totp/confirm", enrolment,
            ("factor_id", factorId), ("code", TotpCodes.Compute(secret, DateTime.UtcNow.AddMinutes(10)))));
        Assert.Contains("That code is not valid", wrong, StringComparison.Ordinal);
        Assert.DoesNotContain(secretText, wrong, StringComparison.Ordinal);
        Assert.False(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.MfaEnabled).SingleAsync()));

        var shown = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "totp/confirm", wrong, ("factor_id", factorId), ("code", TotpCodes.Compute(secret, DateTime.UtcNow))));
        var first = Codes(shown);
        Assert.Equal(10, first.Distinct().Count());
        Assert.True(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.MfaEnabled).SingleAsync()));

        page = await HtmlAsync(await browser.GetAsync($"/t/{portal.Slug}/account"));
        Assert.Contains("Authenticator app: Phone", page, StringComparison.Ordinal);
        Assert.DoesNotContain(secretText, page, StringComparison.Ordinal);
        Assert.Empty(Codes(page));

        var second = Codes(await HtmlAsync(await SubmitAsync(browser, portal.Slug, "recovery-codes", page)));
        Assert.Equal(10, second.Count);
        Assert.Empty(first.Intersect(second));
        await using var scope = app.Host.Services.CreateAsyncScope();
        var factors = scope.ServiceProvider.GetRequiredService<SecondFactors>();
        Assert.Equal(SecondFactorOutcome.Wrong, (await factors.UseRecoveryCodeAsync(portal.TenantId, userId, first[0], default)).Outcome);
        Assert.Equal(SecondFactorOutcome.Accepted, (await factors.UseRecoveryCodeAsync(portal.TenantId, userId, second[0], default)).Outcome);
    }

    [Fact]
    public async Task Changing_the_password_or_removing_a_factor_on_the_page_needs_a_recent_sign_in()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            var portal = await AccountApp.CreateAsync(app);
            var (userId, email) = await portal.CreateUserAsync(app);
            using var browser = Browser(host);
            var page = await SignInAsync(browser, portal.Slug, email);
            var (factorId, secret) = await EnrolAsync(browser, portal.Slug, page, clock.GetUtcNow().UtcDateTime);
            var firstSession = await app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).Select(s => s.Id).SingleAsync());

            clock.Advance(TimeSpan.FromMinutes(6));
            var loginAgain = $"/t/{portal.Slug}/login?return_url={Uri.EscapeDataString($"/t/{portal.Slug}/account")}";
            page = await HtmlAsync(await browser.GetAsync($"/t/{portal.Slug}/account"));
            Assert.Contains("Sign in again", page, StringComparison.Ordinal);
            Assert.DoesNotContain("current_password", page, StringComparison.Ordinal);
            foreach (var (action, fields) in new[]
            {
                ("password", new[] { ("current_password", AccountApp.Password), ("new_password", NewPassword), ("confirm_password", NewPassword) }),
                ("factors/remove", new[] { ("factor_id", factorId) }),
                ("totp", new[] { ("name", "Another phone") }),
                ("recovery-codes", Array.Empty<(string, string)>()),
            })
            {
                var refused = await SubmitAsync(browser, portal.Slug, action, page, fields);
                Assert.Equal(HttpStatusCode.SeeOther, refused.StatusCode);
                Assert.Equal(loginAgain, refused.Headers.Location!.OriginalString);
            }

            Assert.Equal(1, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == userId)));

            // Nor may a stale session start adding a passkey.
            var passkeys = await HtmlAsync(await browser.GetAsync($"/t/{portal.Slug}/account/passkeys"));
            await (await browser.PostAsync($"/t/{portal.Slug}/passkeys/registration-options",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["form_token"] = Forms.Hidden(passkeys, "form_token") }))).ReadProblemAsync(403);

            // A fresh sign-in (a new session, with the second factor now enrolled) lets both through.
            page = await SignInAsync(browser, portal.Slug, email, totp: (secret, clock.GetUtcNow().UtcDateTime));
            var wrong = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "password", page,
                ("current_password", "Not-The-Password-1!"), ("new_password", NewPassword), ("confirm_password", NewPassword)));
            Assert.Contains("Your current password is not correct.", wrong, StringComparison.Ordinal);
            var changed = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "password", wrong,
                ("current_password", AccountApp.Password), ("new_password", NewPassword), ("confirm_password", NewPassword)));
            Assert.Contains("Your password was changed.", changed, StringComparison.Ordinal);
            Assert.NotNull(await app.DbAsync(db => db.UserSessions.Where(s => s.Id == firstSession).Select(s => s.RevokedAt).SingleAsync()));
            Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.RevokedAt == null)));

            var removed = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "factors/remove", changed, ("factor_id", factorId)));
            Assert.Contains("The factor was removed.", removed, StringComparison.Ordinal);
            Assert.Equal(0, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == userId)));
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Passkeys_are_listed_with_a_remove_button_and_removing_the_last_factor_turns_mfa_off()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        var passkey = Guid.NewGuid().ToString();
        // Signed in first: with the passkey in place the password alone would stop at the second-factor step.
        using var browser = Browser(app.Host);
        await SignInAsync(browser, portal.Slug, email);
        await app.DbAsync(async db =>
        {
            db.MfaFactors.Add(new ScaiKey.Data.Entities.MfaFactor
            {
                Id = passkey, TenantId = portal.TenantId, UserId = userId, Type = "WEBAUTHN", Name = "Laptop key",
                CredentialId = "credential-" + passkey, PublicKey = [1, 2, 3], CreatedAt = DateTime.UtcNow, ConfirmedAt = DateTime.UtcNow,
            });
            await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.MfaEnabled, true));
            await db.SaveChangesAsync();
        });
        var page = await HtmlAsync(await browser.GetAsync($"/t/{portal.Slug}/account"));
        Assert.Contains("Passkey: Laptop key", page, StringComparison.Ordinal);
        Assert.Contains($"name=\"factor_id\" value=\"{passkey}\"", page, StringComparison.Ordinal);

        var removed = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "factors/remove", page, ("factor_id", passkey)));
        Assert.Contains("The factor was removed.", removed, StringComparison.Ordinal);
        Assert.DoesNotContain("Laptop key", removed, StringComparison.Ordinal);
        Assert.False(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.MfaEnabled).SingleAsync()));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.mfa_factor_removed" && e.TargetId == passkey)));
    }

    [Fact]
    public async Task Ending_a_session_on_the_page_ends_its_tokens_and_a_form_without_its_token_does_nothing()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (_, email) = await portal.CreateUserAsync(app);
        using var browser = Browser(app.Host);
        var page = await SignInAsync(browser, portal.Slug, email);
        var tokens = await portal.TokensAsync(app.Anonymous(), email);
        using var me = app.WithToken(tokens["access_token"]!.GetValue<string>());
        var sid = Jwt.Payload(tokens["access_token"]!.GetValue<string>())["sid"]!.GetValue<string>();
        page = await HtmlAsync(await browser.GetAsync($"/t/{portal.Slug}/account"));
        Assert.Contains($"value=\"{sid}\"", page, StringComparison.Ordinal);

        var forged = await browser.PostAsync($"/t/{portal.Slug}/account/sessions/end", new FormUrlEncodedContent(new Dictionary<string, string> { ["session_id"] = sid }));
        await HtmlAsync(forged, 400);
        await (await me.GetAsync("/api/v1/me")).ShouldBeAsync(200);

        var ended = await HtmlAsync(await SubmitAsync(browser, portal.Slug, "sessions/end", page, ("session_id", sid)));
        Assert.Contains("The session was ended", ended, StringComparison.Ordinal);
        await (await me.GetAsync("/api/v1/me")).ShouldBeAsync(401);
        await (await portal.RefreshAsync(app.Anonymous(), tokens["refresh_token"]!.GetValue<string>())).ShouldBeAsync(400);

        // Ending this browser's own session signs it out.
        var own = Regex.Match(ended, "<input type=\"hidden\" name=\"session_id\" value=\"([^\"]+)\" ?/?>").Groups[1].Value;
        Assert.Contains("You are signed out", await HtmlAsync(await SubmitAsync(browser, portal.Slug, "sessions/end", ended, ("session_id", own))), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.GetAsync($"/t/{portal.Slug}/account")).StatusCode);
    }
}
