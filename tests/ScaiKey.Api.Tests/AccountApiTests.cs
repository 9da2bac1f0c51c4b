using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Mfa;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The signed-in user's own account, /api/v1/me (issue 14, point 1): only a user's account-scope token of a
/// first-party application gets in; TOTP enrolment with codes computed from the returned secret, recovery codes,
/// password change and sessions, the recent-sign-in rule, and nobody reaching another user's factors or sessions.
/// </summary>
public sealed class AccountApiTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string NewPassword = "Saffron-Orbit-4417!";
    private const string ReauthenticationType = "urn:scaikey:problem:reauthentication-required";

    [Fact]
    public async Task Get_me_answers_the_callers_own_user_and_only_to_an_account_token_of_a_first_party_application()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        using var http = app.Anonymous();

        using var me = await portal.MeAsync(app, email);
        var data = (await (await me.GetAsync("/api/v1/me")).ReadJsonAsync(200))["data"]!;
        Assert.Equal(userId, data["id"]!.GetValue<string>());
        Assert.Equal(email, data["email"]!.GetValue<string>());
        Assert.False(data["mfa_enabled"]!.GetValue<bool>());

        // The same application's token without the account scope is for the application only (its audience).
        using var plain = app.WithToken((await portal.TokensAsync(http, email, scope: "openid"))["access_token"]!.GetValue<string>());
        await (await plain.GetAsync("/api/v1/me")).ShouldBeAsync(401);

        // The application's own client-credential token has no user: refused.
        using var service = app.WithToken(await app.GetTokenAsync(portal.ClientId, portal.Secret));
        Assert.Contains("account scope", (await (await service.GetAsync("/api/v1/me")).ReadProblemAsync(403))["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        // A tenant application that is not first-party cannot obtain the scope, and its user tokens are refused.
        var tenantApp = await AccountApp.CreateAsync(app, firstParty: false);
        var (_, other) = await tenantApp.CreateUserAsync(app);
        var scopeRefused = await (await tenantApp.PasswordGrantAsync(http, other)).ReadJsonAsync(400);
        Assert.Equal("invalid_request", scopeRefused["error"]!.GetValue<string>());
        using var tenantToken = app.WithToken((await tenantApp.TokensAsync(http, other, scope: "openid"))["access_token"]!.GetValue<string>());
        await (await tenantToken.GetAsync("/api/v1/me")).ShouldBeAsync(401);

        // An admin's console token (scaikey.admin, no account) and the platform's admin client: refused.
        var (_, console) = await ConsoleSignIn.AdminUserAsync(app, portal.TenantId, portal.Slug, ("TENANT_ADMIN", null, portal.TenantId));
        await (await console.GetAsync("/api/v1/me")).ReadProblemAsync(403);
        using var admin = await app.AdminAsync();
        await (await admin.GetAsync("/api/v1/me")).ReadProblemAsync(403);
        await (await app.Anonymous().GetAsync("/api/v1/me")).ReadProblemAsync(401);

        // ...and the account token reaches nothing of the management API.
        await (await me.GetAsync($"/api/v1/tenants/{portal.TenantId}/users/{userId}")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task An_application_that_stops_being_first_party_loses_the_account_api_for_its_live_tokens()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (_, email) = await portal.CreateUserAsync(app);
        using var before = await portal.MeAsync(app, email);
        using var after = await portal.MeAsync(app, email);
        await (await before.GetAsync("/api/v1/me")).ShouldBeAsync(200);

        using (var admin = await app.AdminAsync())
        {
            var appId = (await (await admin.GetAsync($"/api/v1/tenants/{portal.TenantId}/applications")).ReadJsonAsync(200))["data"]!.AsArray()
                .Single(a => a!["client_id"]!.GetValue<string>() == portal.ClientId)!["id"]!.GetValue<string>();
            await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{portal.TenantId}/applications/{appId}", new { first_party = false })).ShouldBeAsync(200);
        }

        // A token issued while the application was first-party, first used after: refused.
        await (await after.GetAsync("/api/v1/me")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task The_account_routes_are_in_the_openapi_document()
    {
        var paths = (await (await app.Anonymous().GetAsync("/openapi.json")).ReadJsonAsync(200))["paths"]!;
        foreach (var (path, method) in new[]
        {
            ("/api/v1/me", "get"), ("/api/v1/me/password", "post"), ("/api/v1/me/mfa/factors", "get"), ("/api/v1/me/mfa/totp", "post"),
            ("/api/v1/me/mfa/totp/{factor_id}/confirm", "post"), ("/api/v1/me/mfa/recovery-codes", "post"),
            ("/api/v1/me/mfa/factors/{factor_id}", "delete"), ("/api/v1/me/sessions", "get"), ("/api/v1/me/sessions/{session_id}", "delete"),
        })
        {
            var operation = paths[path]?[method];
            Assert.True(operation is not null, $"{method} {path} missing from /openapi.json");
            Assert.Equal("Account", operation!["tags"]![0]!.GetValue<string>());
            Assert.NotNull(operation["responses"]!["401"]);
            Assert.NotNull(operation["responses"]!["403"]);
        }
    }

    [Fact]
    public async Task A_totp_factor_counts_once_confirmed_with_a_code_from_its_secret_and_mfa_enabled_follows()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        using var me = await portal.MeAsync(app, email);

        var started = (await (await me.PostAsJsonAsync("/api/v1/me/mfa/totp", new { name = "Phone" })).ReadJsonAsync(201))["data"]!;
        var factorId = started["factor_id"]!.GetValue<string>();
        var secretText = started["secret"]!.GetValue<string>();
        Assert.StartsWith("otpauth://totp/", started["otpauth_uri"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("secret=" + secretText, started["otpauth_uri"]!.GetValue<string>(), StringComparison.Ordinal);

        // Unconfirmed, it counts for nothing.
        Assert.Empty((await (await me.GetAsync("/api/v1/me/mfa/factors")).ReadJsonAsync(200))["data"]!.AsArray());
        Assert.False((await (await me.GetAsync("/api/v1/me")).ReadJsonAsync(200))["data"]!["mfa_enabled"]!.GetValue<bool>());

        var secret = OtpNet.Base32Encoding.ToBytes(secretText);
        var wrong = TotpCodes.Compute(secret, DateTime.UtcNow.AddMinutes(10));
        Assert.Equal(["body.code|value_error"], await (await me.PostAsJsonAsync($"/api/v1/me/mfa/totp/{factorId}/confirm", new { code = wrong })).ReadValidationErrorsAsync());
        Assert.Equal(["body.code|missing"], await (await me.PostAsJsonAsync($"/api/v1/me/mfa/totp/{factorId}/confirm", new { })).ReadValidationErrorsAsync());

        var confirmed = (await (await me.PostAsJsonAsync($"/api/v1/me/mfa/totp/{factorId}/confirm",
            new { code = TotpCodes.Compute(secret, DateTime.UtcNow) })).ReadJsonAsync(200))["data"]!;
        var codes = confirmed["recovery_codes"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal(10, codes.Distinct().Count());

        // Confirmed once: a second confirmation finds nothing pending.
        await (await me.PostAsJsonAsync($"/api/v1/me/mfa/totp/{factorId}/confirm", new { code = TotpCodes.Compute(secret, DateTime.UtcNow) })).ReadProblemAsync(404);

        var factorsRaw = await (await me.GetAsync("/api/v1/me/mfa/factors")).Content.ReadAsStringAsync();
        var factor = Assert.Single(JsonNode.Parse(factorsRaw)!["data"]!.AsArray())!;
        Assert.Equal((factorId, "TOTP", "Phone"), (factor["id"]!.GetValue<string>(), factor["type"]!.GetValue<string>(), factor["name"]!.GetValue<string>()));
        Assert.NotNull(factor["last_used_at"]);
        Assert.DoesNotContain(secretText, factorsRaw, StringComparison.Ordinal);
        Assert.True((await (await me.GetAsync("/api/v1/me")).ReadJsonAsync(200))["data"]!["mfa_enabled"]!.GetValue<bool>());

        // The secret is sealed at rest, the recovery codes hashed.
        var stored = await app.DbAsync(db => db.MfaFactors.AsNoTracking().SingleAsync(f => f.Id == factorId));
        Assert.DoesNotContain(secretText, stored.SecretEncrypted!, StringComparison.Ordinal);
        var hashes = await app.DbAsync(db => db.MfaRecoveryCodes.AsNoTracking().Where(r => r.UserId == userId).Select(r => r.CodeHash).ToListAsync());
        Assert.Equal(10, hashes.Count);
        Assert.Empty(hashes.Intersect(codes));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.mfa_factor_enrolled" && e.ActorId == userId)));
    }

    [Fact]
    public async Task A_totp_code_works_once_and_the_code_that_confirmed_the_factor_is_already_spent()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        using var me = await portal.MeAsync(app, email);
        var now = DateTime.UtcNow;
        var (_, secret, _) = await AccountApp.EnrolTotpAsync(me, now);

        async Task<SecondFactorOutcome> VerifyAsync(string code)
        {
            await using var scope = app.Host.Services.CreateAsyncScope();
            return (await scope.ServiceProvider.GetRequiredService<SecondFactors>().VerifyTotpAsync(portal.TenantId, userId, code, default)).Outcome;
        }

        Assert.Equal(SecondFactorOutcome.Replayed, await VerifyAsync(TotpCodes.Compute(secret, now)));

        // Control: the next step's code passes once, then it is a replay too.
        var next = TotpCodes.Compute(secret, now.AddSeconds(TotpCodes.StepSeconds));
        Assert.Equal(SecondFactorOutcome.Accepted, await VerifyAsync(next));
        Assert.Equal(SecondFactorOutcome.Replayed, await VerifyAsync(next));
    }

    [Fact]
    public async Task New_recovery_codes_need_a_confirmed_factor_and_void_the_old_ones()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        using var me = await portal.MeAsync(app, email);
        await (await me.PostAsync("/api/v1/me/mfa/recovery-codes", null)).ReadProblemAsync(409);

        var (_, _, first) = await AccountApp.EnrolTotpAsync(me, DateTime.UtcNow);
        var second = (await (await me.PostAsync("/api/v1/me/mfa/recovery-codes", null)).ReadJsonAsync(200))["data"]!["recovery_codes"]!
            .AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal(10, second.Distinct().Count());
        Assert.Empty(first.Intersect(second));

        async Task<SecondFactorOutcome> UseAsync(string code)
        {
            await using var scope = app.Host.Services.CreateAsyncScope();
            return (await scope.ServiceProvider.GetRequiredService<SecondFactors>().UseRecoveryCodeAsync(portal.TenantId, userId, code, default)).Outcome;
        }

        Assert.Equal(SecondFactorOutcome.Wrong, await UseAsync(first[0]));
        Assert.Equal(SecondFactorOutcome.Accepted, await UseAsync(second[0]));
        Assert.Equal(SecondFactorOutcome.Wrong, await UseAsync(second[0]));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.mfa_recovery_codes_regenerated" && e.ActorId == userId)));
    }

    [Fact]
    public async Task Changing_the_password_checks_the_current_one_and_the_policy_and_ends_only_the_other_sessions()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        using var http = app.Anonymous();
        var mine = await portal.TokensAsync(http, email);
        var elsewhere = await portal.TokensAsync(http, email);
        using var me = app.WithToken(mine["access_token"]!.GetValue<string>());
        using var other = app.WithToken(elsewhere["access_token"]!.GetValue<string>());

        Assert.Equal(["body.current_password|value_error"], await (await me.PostAsJsonAsync("/api/v1/me/password",
            new { current_password = "Not-The-Password-1!", new_password = NewPassword })).ReadValidationErrorsAsync());
        Assert.Contains("body.new_password|value_error", await (await me.PostAsJsonAsync("/api/v1/me/password",
            new { current_password = AccountApp.Password, new_password = "short" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.new_password|value_error"], await (await me.PostAsJsonAsync("/api/v1/me/password",
            new { current_password = AccountApp.Password, new_password = AccountApp.Password })).ReadValidationErrorsAsync());
        Assert.Equal(["body.current_password|missing", "body.new_password|missing"], await (await me.PostAsJsonAsync("/api/v1/me/password", new { })).ReadValidationErrorsAsync());
        await (await other.GetAsync("/api/v1/me")).ShouldBeAsync(200);

        await (await me.PostAsJsonAsync("/api/v1/me/password", new { current_password = AccountApp.Password, new_password = NewPassword })).ShouldBeAsync(204);

        // This session stays; the other one and its refresh token end at once.
        await (await me.GetAsync("/api/v1/me")).ShouldBeAsync(200);
        await (await other.GetAsync("/api/v1/me")).ShouldBeAsync(401);
        await (await portal.RefreshAsync(http, elsewhere["refresh_token"]!.GetValue<string>())).ShouldBeAsync(400);
        await (await portal.RefreshAsync(http, mine["refresh_token"]!.GetValue<string>())).ShouldBeAsync(200);
        await (await portal.PasswordGrantAsync(http, email)).ShouldBeAsync(400);
        await portal.TokensAsync(http, email, NewPassword);

        var audit = await app.DbAsync(db => db.AuditEvents.AsNoTracking().SingleAsync(e => e.Action == "user.password_changed" && e.TargetId == userId));
        Assert.Equal(("USER", userId), (audit.ActorType, audit.ActorId));
        Assert.Contains(await app.DbAsync(db => db.EmailOutbox.AsNoTracking().Where(m => m.ToAddress == email).Select(m => m.Kind).ToListAsync()),
            kind => kind == "password_changed");
    }

    [Fact]
    public async Task Guessing_the_current_password_through_a_token_meets_the_sign_in_limits()
    {
        var host = app.StartHost(b => b.UseSetting("ScaiKey:RateLimits:PerAccountPerMinute", "3"));
        try
        {
            var portal = await AccountApp.CreateAsync(app);
            var (_, email) = await portal.CreateUserAsync(app);
            using var me = await portal.MeAsync(app, email, host);
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(["body.current_password|value_error"], await (await me.PostAsJsonAsync("/api/v1/me/password",
                    new { current_password = $"Wrong-Guess-{i}!", new_password = NewPassword })).ReadValidationErrorsAsync());
            }

            var limited = await me.PostAsJsonAsync("/api/v1/me/password", new { current_password = AccountApp.Password, new_password = NewPassword });
            await limited.ReadProblemAsync(429);
            Assert.NotNull(limited.Headers.RetryAfter);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Password_and_factor_changes_need_a_sign_in_in_the_last_five_minutes()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            var portal = await AccountApp.CreateAsync(app);
            var (userId, email) = await portal.CreateUserAsync(app);
            using var me = await portal.MeAsync(app, email, host);
            var (factorId, _, _) = await AccountApp.EnrolTotpAsync(me, clock.GetUtcNow().UtcDateTime);

            clock.Advance(TimeSpan.FromMinutes(6));
            var refused = await (await me.DeleteAsync($"/api/v1/me/mfa/factors/{factorId}")).ReadProblemAsync(403);
            Assert.Equal(ReauthenticationType, refused["type"]!.GetValue<string>());
            var password = await (await me.PostAsJsonAsync("/api/v1/me/password", new { current_password = AccountApp.Password, new_password = NewPassword })).ReadProblemAsync(403);
            Assert.Equal(ReauthenticationType, password["type"]!.GetValue<string>());

            // Every change to the factors needs it too: a stolen token must not add a way in or take the recovery codes.
            foreach (var (path, body) in new[] { ("/api/v1/me/mfa/totp", "{}"), ($"/api/v1/me/mfa/totp/{factorId}/confirm", """{"code":"123456"}"""), ("/api/v1/me/mfa/recovery-codes", "{}") })
            {
                var change = await (await me.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"))).ReadProblemAsync(403);
                Assert.Equal(ReauthenticationType, change["type"]!.GetValue<string>());
            }

            // The token itself still works for everything else.
            await (await me.GetAsync("/api/v1/me/mfa/factors")).ShouldBeAsync(200);

            // A step-up renews the session's authentication time; the same token may then remove the factor.
            var sid = await app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).Select(s => s.Id).SingleAsync());
            await app.DbAsync(db => db.UserSessions.Where(s => s.Id == sid).ExecuteUpdateAsync(s => s.SetProperty(x => x.AuthenticatedAt, clock.GetUtcNow().UtcDateTime)));
            await (await me.DeleteAsync($"/api/v1/me/mfa/factors/{factorId}")).ShouldBeAsync(204);
            Assert.Empty((await (await me.GetAsync("/api/v1/me/mfa/factors")).ReadJsonAsync(200))["data"]!.AsArray());
            Assert.False((await (await me.GetAsync("/api/v1/me")).ReadJsonAsync(200))["data"]!["mfa_enabled"]!.GetValue<bool>());
            Assert.Equal(0, await app.DbAsync(db => db.MfaRecoveryCodes.CountAsync(r => r.UserId == userId)));

            // A fresh sign-in is a fresh session: the password change goes through.
            clock.Advance(TimeSpan.FromMinutes(6));
            using var fresh = await portal.MeAsync(app, email, host);
            await (await fresh.PostAsJsonAsync("/api/v1/me/password", new { current_password = AccountApp.Password, new_password = NewPassword })).ShouldBeAsync(204);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Sessions_mark_the_current_one_and_ending_one_ends_its_tokens_at_once()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (_, email) = await portal.CreateUserAsync(app);
        using var http = app.Anonymous();
        var mine = await portal.TokensAsync(http, email);
        var elsewhere = await portal.TokensAsync(http, email);
        using var me = app.WithToken(mine["access_token"]!.GetValue<string>());
        using var other = app.WithToken(elsewhere["access_token"]!.GetValue<string>());
        var mySid = Jwt.Payload(mine["access_token"]!.GetValue<string>())["sid"]!.GetValue<string>();
        var otherSid = Jwt.Payload(elsewhere["access_token"]!.GetValue<string>())["sid"]!.GetValue<string>();

        var sessions = (await (await me.GetAsync("/api/v1/me/sessions")).ReadJsonAsync(200))["data"]!.AsArray();
        Assert.Equal([(mySid, true), (otherSid, false)],
            sessions.Select(s => (s!["id"]!.GetValue<string>(), s["current"]!.GetValue<bool>())).OrderByDescending(s => s.Item2));
        Assert.All(sessions, s => Assert.NotNull(s!["last_seen_at"]));

        await (await other.GetAsync("/api/v1/me")).ShouldBeAsync(200);
        await (await me.DeleteAsync($"/api/v1/me/sessions/{otherSid}")).ShouldBeAsync(204);
        await (await other.GetAsync("/api/v1/me")).ShouldBeAsync(401);
        await (await portal.RefreshAsync(http, elsewhere["refresh_token"]!.GetValue<string>())).ShouldBeAsync(400);
        await (await me.DeleteAsync($"/api/v1/me/sessions/{otherSid}")).ReadProblemAsync(404);
        Assert.Single((await (await me.GetAsync("/api/v1/me/sessions")).ReadJsonAsync(200))["data"]!.AsArray());
    }

    [Fact]
    public async Task Nobody_sees_or_ends_another_users_session_or_factor_in_the_same_tenant_or_another()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (victimId, victimEmail) = await portal.CreateUserAsync(app);
        using var victim = await portal.MeAsync(app, victimEmail);
        var (factorId, _, _) = await AccountApp.EnrolTotpAsync(victim, DateTime.UtcNow);
        var pending = (await (await victim.PostAsJsonAsync("/api/v1/me/mfa/totp", new { })).ReadJsonAsync(201))["data"]!["factor_id"]!.GetValue<string>();
        var victimSid = await app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == victimId).Select(s => s.Id).SingleAsync());

        var elsewhere = await AccountApp.CreateAsync(app);
        var (_, neighbourEmail) = await portal.CreateUserAsync(app);
        var (_, strangerEmail) = await elsewhere.CreateUserAsync(app);
        foreach (var attacker in new[] { await portal.MeAsync(app, neighbourEmail), await elsewhere.MeAsync(app, strangerEmail) })
        {
            using (attacker)
            {
                await (await attacker.DeleteAsync($"/api/v1/me/sessions/{victimSid}")).ReadProblemAsync(404);
                await (await attacker.DeleteAsync($"/api/v1/me/mfa/factors/{factorId}")).ReadProblemAsync(404);
                await (await attacker.PostAsJsonAsync($"/api/v1/me/mfa/totp/{pending}/confirm", new { code = "123456" })).ReadProblemAsync(404);
                Assert.Empty((await (await attacker.GetAsync("/api/v1/me/mfa/factors")).ReadJsonAsync(200))["data"]!.AsArray());
                Assert.DoesNotContain(victimSid, (await (await attacker.GetAsync("/api/v1/me/sessions")).Content.ReadAsStringAsync()), StringComparison.Ordinal);
            }
        }

        // Control: all of it is still the victim's.
        await (await victim.GetAsync("/api/v1/me")).ShouldBeAsync(200);
        Assert.Single((await (await victim.GetAsync("/api/v1/me/mfa/factors")).ReadJsonAsync(200))["data"]!.AsArray());
        await (await victim.DeleteAsync($"/api/v1/me/mfa/factors/{factorId}")).ShouldBeAsync(204);
    }
}
