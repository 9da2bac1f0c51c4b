using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Http;
using ScaiKey.Api.Mfa.Passkeys;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Passkeys over HTTP, answered by a software authenticator: registration on the account's passkeys page,
/// passwordless sign-in, and the refusals (used or expired challenge, another tenant's passkey, no sign-in cookie,
/// a counter that does not go up). The same flows in Chromium: <see cref="BrowserPasskeyTests"/>.
/// </summary>
public sealed class PasskeyTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task A_signed_in_user_registers_a_passkey_and_mfa_enabled_becomes_true()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "ada@example.com");
        using var browser = client.Browser(app);
        using var key = new SoftwareAuthenticator();
        Assert.False(await MfaEnabledAsync(client, userId));

        await PasskeyFlow.SignInWithPasswordAsync(browser, client, "ada@example.com");
        var added = await PasskeyFlow.RegisterAsync(browser, client, key, "Laptop");
        await added.ShouldBeAsync(303);
        Assert.Equal($"/t/{client.Slug}/account/passkeys?added=1", added.Headers.Location!.OriginalString);

        var page = await (await browser.GetAsync(added.Headers.Location.OriginalString)).Content.ReadAsStringAsync();
        Assert.Contains("Your passkey was added.", page, StringComparison.Ordinal);
        Assert.Contains("<strong>Laptop</strong>", page, StringComparison.Ordinal);

        var factor = await app.DbAsync(db => db.MfaFactors.AsNoTracking().SingleAsync(f => f.UserId == userId));
        Assert.Equal(MfaFactorTypes.WebAuthn, factor.Type);
        Assert.Equal(Convert.ToBase64String(key.CredentialId).TrimEnd('=').Replace('+', '-').Replace('/', '_'), factor.CredentialId);
        Assert.NotNull(factor.ConfirmedAt);
        Assert.NotEmpty(factor.PublicKey!);
        Assert.True(await MfaEnabledAsync(client, userId));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.mfa_factor_enrolled" && e.TargetId == factor.Id)));

        // The same authenticator again: the options exclude it, and a forced answer is refused.
        var again = await PasskeyFlow.RegisterAsync(browser, client, key, "Laptop again");
        Assert.Contains("This passkey is already registered.", await again.ReadPageAsync(200), StringComparison.Ordinal);
        Assert.Equal(1, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == userId)));
    }

    [Fact]
    public async Task Registration_without_the_sign_in_cookie_is_refused_and_the_page_returns_after_sign_in()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "grace@example.com");
        using var browser = client.Browser(app);

        // The page sends an anonymous browser to the login page, which accepts the way back.
        var page = await browser.GetAsync($"/t/{client.Slug}/account/passkeys");
        await page.ShouldBeAsync(303);
        var login = page.Headers.Location!.OriginalString;
        Assert.Equal($"/t/{client.Slug}/login?return_url={Uri.EscapeDataString($"/t/{client.Slug}/account/passkeys")}", login);
        var loginHtml = await (await browser.GetAsync(login)).ReadPageAsync(200);

        // No cookie: no options, and a posted registration goes to the login page without storing anything.
        var options = await browser.PostAsync($"/t/{client.Slug}/passkeys/registration-options",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["form_token"] = Forms.Hidden(loginHtml, "form_token") }));
        await options.ReadProblemAsync(403);
        var posted = await browser.PostAsync($"/t/{client.Slug}/account/passkeys", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["form_token"] = Forms.Hidden(loginHtml, "form_token"), ["challenge_token"] = "x", ["credential"] = "{}",
        }));
        await posted.ShouldBeAsync(303);
        Assert.StartsWith($"/t/{client.Slug}/login?", posted.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == userId)));

        // Control: after signing in from that login page the browser is sent back, and may register.
        var signedIn = await browser.PostAsync($"/t/{client.Slug}/login",
            Forms.From(loginHtml, ("email", "grace@example.com"), ("password", OidcTestClient.Password)));
        await signedIn.ShouldBeAsync(303);
        Assert.Equal($"/t/{client.Slug}/account/passkeys", signedIn.Headers.Location!.OriginalString);
        using var key = new SoftwareAuthenticator();
        await (await PasskeyFlow.RegisterAsync(browser, client, key, null)).ShouldBeAsync(303);
        Assert.Equal("Passkey", await app.DbAsync(db => db.MfaFactors.Where(f => f.UserId == userId).Select(f => f.Name).SingleAsync()));

        // Another tenant's account page is not a way back from this tenant's login page.
        var other = await OidcTestClient.CreateAsync(app);
        var foreign = await browser.GetAsync($"/t/{client.Slug}/login?return_url={Uri.EscapeDataString($"/t/{other.Slug}/account/passkeys")}");
        await foreign.ShouldBeAsync(400);
    }

    [Fact]
    public async Task A_passkey_alone_signs_in_with_amr_hwk_mfa_and_continues_to_the_application()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "alan@example.com");
        using var key = await RegisteredKeyAsync(client, "alan@example.com");

        // From an application's authorization request: the login page, the passkey, back to the authorization endpoint.
        using var browser = client.Browser(app);
        var pkce = Pkce.Create();
        var login = (await browser.GetAsync(client.AuthorizeUrl(pkce))).Headers.Location!.OriginalString;
        var loginHtml = await (await browser.GetAsync(login)).ReadPageAsync(200);
        Assert.Contains("Sign in with a passkey", loginHtml, StringComparison.Ordinal);

        var signedIn = await PasskeyFlow.SignInWithPasskeyAsync(browser, client, key, loginHtml);
        await signedIn.ShouldBeAsync(303);
        var code = await client.CodeFromAsync(await browser.GetAsync(signedIn.Headers.Location!.OriginalString), "state-1");
        var tokens = await (await client.RedeemAsync(app, code, pkce.Verifier)).ReadJsonAsync(200);
        Assert.Equal(userId, Jwt.Payload(tokens["id_token"]!.GetValue<string>())["sub"]!.GetValue<string>());

        var session = await app.DbAsync(db => db.UserSessions.AsNoTracking().SingleAsync(s => s.UserId == userId && s.Amr == "hwk mfa"));
        Assert.Null(session.RevokedAt);
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.signed_in" && e.TargetId == userId && e.Reason == "amr=hwk mfa")));
        var factor = await app.DbAsync(db => db.MfaFactors.AsNoTracking().SingleAsync(f => f.UserId == userId));
        Assert.Equal(key.Counter, (uint)factor.SignCount);
        Assert.NotNull(factor.LastUsedAt);
    }

    [Fact]
    public async Task A_challenge_is_single_use()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "edsger@example.com");
        using var key = await RegisteredKeyAsync(client, "edsger@example.com");
        using var browser = client.Browser(app);
        var loginHtml = await (await browser.GetAsync($"/t/{client.Slug}/login")).ReadPageAsync(200);
        var (token, publicKey) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);

        // Control: the first answer signs in.
        await PasskeyFlow.SignedInAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, token, key.Get(publicKey)));

        // A second, equally valid answer (the counter went up) to the same challenge is refused.
        await PasskeyFlow.RefusedAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, token, key.Get(publicKey)));
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa")));
    }

    [Fact]
    public async Task An_expired_challenge_is_refused()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            var client = await OidcTestClient.CreateAsync(app);
            var userId = await client.CreateUserAsync(app, "barbara@example.com");
            using var key = await RegisteredKeyAsync(client, "barbara@example.com");
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            var loginHtml = await (await browser.GetAsync($"/t/{client.Slug}/login")).ReadPageAsync(200);

            // Control: answered within the ceremony's five minutes.
            var (fresh, freshKey) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);
            clock.Advance(TimeSpan.FromMinutes(4));
            await PasskeyFlow.SignedInAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, fresh, key.Get(freshKey)));

            var (stale, staleKey) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);
            clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
            await PasskeyFlow.RefusedAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, stale, key.Get(staleKey)));
            Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa")));
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task A_passkey_of_another_tenant_is_refused()
    {
        var home = await OidcTestClient.CreateAsync(app);
        var other = await OidcTestClient.CreateAsync(app);
        var userId = await home.CreateUserAsync(app, "margaret@example.com");
        using var key = await RegisteredKeyAsync(home, "margaret@example.com");
        using var browser = home.Browser(app);

        var otherLogin = await (await browser.GetAsync($"/t/{other.Slug}/login")).ReadPageAsync(200);
        var (token, publicKey) = await PasskeyFlow.AssertionOptionsAsync(browser, other, otherLogin);
        await PasskeyFlow.RefusedAsync(await PasskeyFlow.PostSignInAsync(browser, other, otherLogin, token, key.Get(publicKey)));
        Assert.Equal(0, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa")));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TenantId == other.TenantId && e.Reason == "passkey_unknowncredential")));

        // Control: the same authenticator at its own tenant.
        var homeLogin = await (await browser.GetAsync($"/t/{home.Slug}/login")).ReadPageAsync(200);
        var (homeToken, homeKey) = await PasskeyFlow.AssertionOptionsAsync(browser, home, homeLogin);
        await PasskeyFlow.SignedInAsync(await PasskeyFlow.PostSignInAsync(browser, home, homeLogin, homeToken, key.Get(homeKey)));
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa")));
    }

    [Fact]
    public async Task A_counter_that_does_not_go_up_an_answer_without_user_verification_or_garbage_is_refused()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "frances@example.com");
        using var key = await RegisteredKeyAsync(client, "frances@example.com");
        using var browser = client.Browser(app);
        var loginHtml = await (await browser.GetAsync($"/t/{client.Slug}/login")).ReadPageAsync(200);

        var (first, firstKey) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);
        await PasskeyFlow.SignedInAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, first, key.Get(firstKey)));

        // A clone of the authenticator answers with the counter it had before.
        key.Counter -= 1;
        var (cloned, clonedKey) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);
        await PasskeyFlow.RefusedAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, cloned, key.Get(clonedKey)));
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa")));

        // An authenticator that stopped counting (0 after counting; the next answer wraps to 0) is the same warning sign.
        var counted = key.Counter;
        key.Counter = uint.MaxValue;
        var (zero, zeroKey) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);
        await PasskeyFlow.RefusedAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, zero, key.Get(zeroKey)));
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa")));

        // Presence without verification (no PIN, no biometrics) is one factor: not enough to sign in without a password.
        key.Counter = counted + 5;
        var (unverified, unverifiedKey) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);
        await PasskeyFlow.RefusedAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, unverified, key.Get(unverifiedKey, userVerified: false)));
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa")));
        Assert.Equal(3, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.sign_in_failed")));

        // Answers that are not WebAuthn at all are refused the same way, never with a server error.
        foreach (var garbage in new[] { "not json", "{}", "{\"rawId\":\"AAAA\",\"response\":{}}", "[1,2]", new string('x', 70_000) })
        {
            var (token, _) = await PasskeyFlow.AssertionOptionsAsync(browser, client, loginHtml);
            await PasskeyFlow.RefusedAsync(await PasskeyFlow.PostSignInAsync(browser, client, loginHtml, token, garbage));
        }

        // Registration garbage, by a user without a passkey yet (Frances's password alone now stops at the second factor).
        await client.CreateUserAsync(app, "grace@example.com");
        using var account = client.Browser(app);
        await PasskeyFlow.SignInWithPasswordAsync(account, client, "grace@example.com");
        var html = await (await account.GetAsync($"/t/{client.Slug}/account/passkeys")).ReadPageAsync(200);
        foreach (var garbage in new[] { "not json", "{}", "{\"id\":\"AAAA\",\"rawId\":\"AAAA\",\"type\":\"public-key\",\"response\":{}}" })
        {
            var options = await (await account.PostAsync($"/t/{client.Slug}/passkeys/registration-options",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["form_token"] = Forms.Hidden(html, "form_token") }))).ReadJsonAsync(200);
            var refused = await account.PostAsync($"/t/{client.Slug}/account/passkeys",
                Forms.From(html, ("challenge_token", options["challenge_token"]!.GetValue<string>()), ("credential", garbage)));
            Assert.Contains("The passkey could not be added.", await refused.ReadPageAsync(200), StringComparison.Ordinal);
        }

        Assert.Equal(1, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == userId)));
    }

    [Fact]
    public async Task A_disabled_users_passkey_does_not_sign_in()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "dorothy@example.com");
        using var key = await RegisteredKeyAsync(client, "dorothy@example.com");
        using var browser = client.Browser(app);
        var loginHtml = await (await browser.GetAsync($"/t/{client.Slug}/login")).ReadPageAsync(200);
        using var admin = await app.AdminAsync();
        var status = $"/api/v1/tenants/{client.TenantId}/users/{userId}/status";

        await (await admin.PutAsJsonAsync(status, new { status = "DISABLED" })).ShouldBeAsync(200);
        await PasskeyFlow.RefusedAsync(await PasskeyFlow.SignInWithPasskeyAsync(browser, client, key, loginHtml));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Reason == "passkey_not_active")));

        // Control: active again, the same passkey signs in.
        await (await admin.PutAsJsonAsync(status, new { status = "ACTIVE" })).ShouldBeAsync(200);
        await PasskeyFlow.SignedInAsync(await PasskeyFlow.SignInWithPasskeyAsync(browser, client, key, loginHtml));
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "hwk mfa" && s.RevokedAt == null)));
    }

    [Fact]
    public async Task As_a_second_factor_only_the_pending_users_passkey_is_accepted()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var adaId = await client.CreateUserAsync(app, "ada2@example.com");
        var bobId = await client.CreateUserAsync(app, "bob2@example.com");
        var carolId = await client.CreateUserAsync(app, "carol2@example.com");
        using var ada = await RegisteredKeyAsync(client, "ada2@example.com");
        using var bob = await RegisteredKeyAsync(client, "bob2@example.com");

        // What the hosted MFA step will do after Ada's password: options for her passkeys, her answer checked as hers.
        await using var scope = app.Host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<IHttpContextAccessor>().HttpContext =
            new DefaultHttpContext { Request = { Scheme = "http", Host = new HostString("localhost") } };
        var passkeys = scope.ServiceProvider.GetRequiredService<PasskeyService>();
        var tenant = (await TenantLookup.FindBySlugAsync(scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>(), client.Slug, default))!;

        var ceremony = (await passkeys.BeginAssertionAsync(tenant, adaId, default))!;
        var options = JsonNode.Parse(ceremony.OptionsJson)!;
        Assert.Equal("preferred", options["userVerification"]!.GetValue<string>());
        Assert.Single(options["allowCredentials"]!.AsArray());
        var accepted = await passkeys.CompleteAssertionAsync(tenant, ceremony.ChallengeToken, ada.Get(options), adaId, default);
        Assert.Equal((PasskeyFailure.None, adaId, "hwk mfa"), (accepted.Failure, accepted.UserId, accepted.Amr));

        // Bob's passkey answering Ada's step, and Ada's step finished as if it were Bob's, are refused.
        ceremony = (await passkeys.BeginAssertionAsync(tenant, adaId, default))!;
        var wrong = await passkeys.CompleteAssertionAsync(tenant, ceremony.ChallengeToken, bob.Get(JsonNode.Parse(ceremony.OptionsJson)!), adaId, default);
        Assert.Equal(PasskeyFailure.WrongUser, wrong.Failure);
        ceremony = (await passkeys.BeginAssertionAsync(tenant, adaId, default))!;
        var swapped = await passkeys.CompleteAssertionAsync(tenant, ceremony.ChallengeToken, bob.Get(JsonNode.Parse(ceremony.OptionsJson)!), bobId, default);
        Assert.Equal(PasskeyFailure.ChallengeInvalid, swapped.Failure);

        // Without user verification it is one factor.
        ceremony = (await passkeys.BeginAssertionAsync(tenant, adaId, default))!;
        var presence = await passkeys.CompleteAssertionAsync(tenant, ceremony.ChallengeToken, ada.Get(JsonNode.Parse(ceremony.OptionsJson)!, userVerified: false), adaId, default);
        Assert.Equal((PasskeyFailure.None, "hwk"), (presence.Failure, presence.Amr));

        // A user without passkeys gets no ceremony.
        Assert.Null(await passkeys.BeginAssertionAsync(tenant, carolId, default));
    }

    [Fact]
    public async Task After_the_password_the_step_takes_the_users_passkey_and_the_session_says_pwd_hwk_mfa()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, "pat@example.com");
        await client.CreateUserAsync(app, "mallory@example.com");
        using var pat = await RegisteredKeyAsync(client, "pat@example.com");
        using var mallory = await RegisteredKeyAsync(client, "mallory@example.com");

        // The password alone now stops at the second-factor step, which offers the passkey (Pat has no authenticator app).
        using var browser = client.Browser(app);
        var loginHtml = await (await browser.GetAsync($"/t/{client.Slug}/login")).ReadPageAsync(200);
        var posted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(loginHtml, ("email", "pat@example.com"), ("password", OidcTestClient.Password)));
        await posted.ShouldBeAsync(303);
        Assert.Equal($"/t/{client.Slug}/mfa", posted.Headers.Location!.OriginalString);
        var step = await browser.GetAsync($"/t/{client.Slug}/mfa");
        var stepHtml = await step.ReadPageAsync(200);
        Assert.Contains("Use a passkey", stepHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"code\"", stepHtml, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", step.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var sessionsBefore = await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId));

        // Mallory's passkey answering Pat's step is refused, and no session starts.
        var options = await (await browser.PostAsync($"/t/{client.Slug}/mfa/passkey-options", PasskeyFlow.FormToken(stepHtml))).ReadJsonAsync(200);
        var refused = await browser.PostAsync($"/t/{client.Slug}/mfa/passkey", Forms.From(stepHtml,
            ("challenge_token", options["challenge_token"]!.GetValue<string>()), ("credential", mallory.Get(options["public_key"]!))));
        Assert.Contains("That passkey could not be used.", await refused.ReadPageAsync(200), StringComparison.Ordinal);
        Assert.Equal(sessionsBefore, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId)));

        // Pat's own passkey completes the step: a session that records password and hardware key.
        options = await (await browser.PostAsync($"/t/{client.Slug}/mfa/passkey-options", PasskeyFlow.FormToken(stepHtml))).ReadJsonAsync(200);
        Assert.Single(options["public_key"]!["allowCredentials"]!.AsArray());
        var accepted = await browser.PostAsync($"/t/{client.Slug}/mfa/passkey", Forms.From(stepHtml,
            ("challenge_token", options["challenge_token"]!.GetValue<string>()), ("credential", pat.Get(options["public_key"]!))));
        await PasskeyFlow.SignedInAsync(accepted);
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.Amr == "pwd hwk mfa" && s.RevokedAt == null)));

        // Without a pending step (another browser, no password given) there are no options to answer.
        using var stranger = client.Browser(app);
        var strangerHtml = await (await stranger.GetAsync($"/t/{client.Slug}/login")).ReadPageAsync(200);
        await (await stranger.PostAsync($"/t/{client.Slug}/mfa/passkey-options", PasskeyFlow.FormToken(strangerHtml))).ShouldBeAsync(403);
    }

    [Fact]
    public async Task The_script_is_served_by_the_service_as_javascript_and_the_relying_party_must_be_a_host_name()
    {
        using var http = app.Anonymous();
        var script = await http.GetAsync("/assets/passkeys.js");
        await script.ShouldBeAsync(200);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", script.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("navigator.credentials", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/assets/passkeys.js") { Headers = { { "If-None-Match", script.Headers.ETag!.Tag } } };
        await (await http.SendAsync(again)).ShouldBeAsync(304);

        static bool Valid(string? issuer, bool enabled = true, int seconds = 300) =>
            new PasskeyOptionsValidator(new PublicOrigin { Issuer = issuer is null ? null : new Uri(issuer) })
                .Validate(null, new PasskeyOptions { Enabled = enabled, CeremonySeconds = seconds }).Succeeded;
        Assert.True(Valid("https://id.example.com/"));
        Assert.True(Valid(null));
        Assert.False(Valid("https://10.0.0.5/"));
        Assert.False(Valid("http://[::1]:8080/"));
        Assert.True(Valid("https://10.0.0.5/", enabled: false));
        Assert.False(Valid("https://id.example.com/", seconds: 10));
    }

    /// <summary>A user of <paramref name="client"/>'s tenant signs in with the password and registers a new authenticator.</summary>
    private async Task<SoftwareAuthenticator> RegisteredKeyAsync(OidcTestClient client, string email)
    {
        var key = new SoftwareAuthenticator();
        using var browser = client.Browser(app);
        await PasskeyFlow.SignInWithPasswordAsync(browser, client, email);
        await (await PasskeyFlow.RegisterAsync(browser, client, key, "Key")).ShouldBeAsync(303);
        return key;
    }

    private async Task<bool> MfaEnabledAsync(OidcTestClient client, string userId)
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.GetAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}")).ReadJsonAsync(200))["data"]!["mfa_enabled"]!.GetValue<bool>();
    }
}

/// <summary>What the passkey script does in a browser, done over HTTP: fetch options, answer, post the answer.</summary>
internal static class PasskeyFlow
{
    public static async Task SignInWithPasswordAsync(HttpClient browser, OidcTestClient client, string email)
    {
        var html = await (await browser.GetAsync($"/t/{client.Slug}/login")).ReadPageAsync(200);
        var posted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", email), ("password", OidcTestClient.Password)));
        Assert.Contains("You are signed in.", await posted.ReadPageAsync(200), StringComparison.Ordinal);
    }

    /// <summary>The passkeys page, its options, the authenticator's answer, the page's POST (not followed).</summary>
    public static async Task<HttpResponseMessage> RegisterAsync(HttpClient browser, OidcTestClient client, SoftwareAuthenticator key, string? name)
    {
        var html = await (await browser.GetAsync($"/t/{client.Slug}/account/passkeys")).ReadPageAsync(200);
        var options = await (await browser.PostAsync($"/t/{client.Slug}/passkeys/registration-options", FormToken(html))).ReadJsonAsync(200);
        return await browser.PostAsync($"/t/{client.Slug}/account/passkeys", Forms.From(html,
            ("name", name ?? string.Empty), ("challenge_token", options["challenge_token"]!.GetValue<string>()),
            ("credential", key.Create(options["public_key"]!))));
    }

    public static async Task<(string Token, JsonNode PublicKey)> AssertionOptionsAsync(HttpClient browser, OidcTestClient client, string loginHtml)
    {
        var options = await (await browser.PostAsync($"/t/{client.Slug}/passkeys/assertion-options", FormToken(loginHtml))).ReadJsonAsync(200);
        Assert.Equal("required", options["public_key"]!["userVerification"]!.GetValue<string>());
        return (options["challenge_token"]!.GetValue<string>(), options["public_key"]!);
    }

    public static Task<HttpResponseMessage> PostSignInAsync(HttpClient browser, OidcTestClient client, string loginHtml, string token, string credential)
    {
        var fields = new Dictionary<string, string>
        {
            ["form_token"] = Forms.Hidden(loginHtml, "form_token"), ["challenge_token"] = token, ["credential"] = credential,
        };
        if (loginHtml.Contains("name=\"return_url\"", StringComparison.Ordinal))
        {
            fields["return_url"] = Forms.Hidden(loginHtml, "return_url");
        }

        return browser.PostAsync($"/t/{client.Slug}/passkeys/sign-in", new FormUrlEncodedContent(fields));
    }

    public static async Task<HttpResponseMessage> SignInWithPasskeyAsync(HttpClient browser, OidcTestClient client, SoftwareAuthenticator key, string loginHtml)
    {
        var (token, publicKey) = await AssertionOptionsAsync(browser, client, loginHtml);
        return await PostSignInAsync(browser, client, loginHtml, token, key.Get(publicKey));
    }

    public static async Task SignedInAsync(HttpResponseMessage response) =>
        Assert.Contains("You are signed in.", await response.ReadPageAsync(200), StringComparison.Ordinal);

    /// <summary>The login page again, saying only that the passkey did not work.</summary>
    public static async Task RefusedAsync(HttpResponseMessage response)
    {
        var html = await response.ReadPageAsync(200);
        Assert.Contains("Your passkey could not be used to sign in.", html, StringComparison.Ordinal);
        Assert.Contains("<h1>Sign in</h1>", html, StringComparison.Ordinal);
    }

    public static async Task<string> ReadPageAsync(this HttpResponseMessage response, int expectedStatus)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus,
            $"expected {expectedStatus}, got {(int)response.StatusCode} for {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}\n{body}");
        return body;
    }

    public static FormUrlEncodedContent FormToken(string html) =>
        new(new Dictionary<string, string> { ["form_token"] = Forms.Hidden(html, "form_token") });
}
