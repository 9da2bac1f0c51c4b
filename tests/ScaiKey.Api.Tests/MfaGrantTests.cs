using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// MFA through the token endpoint: the password grant's mfa_required answer and mfa_token, the mfa-otp grant with a
/// TOTP or recovery code (replay, single use, expiry, the issuing client only, lockout), the tenant's MFA policy,
/// and amr/auth_time in the tokens.
/// </summary>
public sealed class MfaGrantTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>, IAsyncLifetime
{
    private MfaHost _host = null!;

    public Task InitializeAsync()
    {
        _host = new MfaHost(app);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<string> ErrorAsync(HttpResponseMessage response) =>
        (await response.ReadJsonAsync(400))["error"]!.GetValue<string>();

    private Task<List<UserSession>> SessionsAsync(string userId) =>
        app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).ToListAsync());

    private Task<List<string?>> FailureReasonsAsync(string userId) =>
        app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == userId && e.Action == "user.sign_in_failed")
            // The test clock stands still between steps, so events share CreatedAt; the ids (UUIDv7 of the real clock,
            // one request after the other) keep their order.
            .OrderBy(e => e.CreatedAt).ThenBy(e => e.Id).Select(e => e.Reason).ToListAsync());

    [Fact]
    public async Task A_password_alone_does_not_wipe_the_failures_wrong_codes_counted_when_a_change_is_due()
    {
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "due@example.com", GrantClient.Password);
        var plainId = await app.CreateUserIdAsync(client.TenantId, "due-plain@example.com", GrantClient.Password);
        await _host.EnrolAsync(client.TenantId, userId);
        foreach (var id in new[] { userId, plainId })
        {
            await app.DbAsync(db => db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(u => u
                .SetProperty(x => x.RequirePasswordChange, true).SetProperty(x => x.FailedLoginAttempts, 3)));
        }

        using var http = _host.Client();
        Assert.Equal("invalid_grant", await ErrorAsync(await client.PasswordAsync(http, "due@example.com")));
        Assert.Equal("invalid_grant", await ErrorAsync(await client.PasswordAsync(http, "due-plain@example.com")));

        // Three wrong codes stay counted for the user with a factor; without one, the right password is a sign-in's success.
        Assert.Equal(3, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.FailedLoginAttempts).SingleAsync()));
        Assert.Equal(0, await app.DbAsync(db => db.Users.Where(u => u.Id == plainId).Select(u => u.FailedLoginAttempts).SingleAsync()));
    }

    [Fact]
    public async Task A_user_with_a_factor_gets_mfa_required_and_the_otp_grant_gives_tokens_with_amr()
    {
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "ada@example.com", GrantClient.Password);
        var plainId = await app.CreateUserIdAsync(client.TenantId, "plain@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var http = _host.Client();

        // Control: without a factor the password alone gives tokens, amr ["pwd"].
        var plain = await (await client.PasswordAsync(http, "plain@example.com")).ReadJsonAsync(200);
        Assert.Equal(["pwd"], Jwt.Payload(plain["id_token"]!.GetValue<string>())["amr"]!.AsArray().Select(a => a!.GetValue<string>()));

        var refused = await (await client.PasswordAsync(http, "ada@example.com")).ReadJsonAsync(400);
        Assert.Equal("mfa_required", refused["error"]!.GetValue<string>());
        Assert.Null(refused["access_token"]);
        var mfaToken = refused["mfa_token"]!.GetValue<string>();
        Assert.Empty(await SessionsAsync(userId));
        // The mfa_token is sealed, not stored: the password step wrote no row, and the token shows nothing of what it carries.
        Assert.Empty(await app.DbAsync(db => db.MfaChallenges.AsNoTracking().Where(c => c.UserId == userId).ToListAsync()));
        Assert.StartsWith("mt1.", mfaToken, StringComparison.Ordinal);
        Assert.DoesNotContain(userId, System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(mfaToken.AsSpan(4))), StringComparison.Ordinal);

        var tokens = await (await client.OtpAsync(http, mfaToken, otp: _host.Code(totp))).ReadJsonAsync(200);

        // Its use wrote its row, used, in the session's transaction (no second use, see below), and the code's step on the factor.
        var stored = await app.DbAsync(db => db.MfaChallenges.AsNoTracking().SingleAsync(c => c.UserId == userId));
        Assert.Equal("PASSWORD_GRANT", stored.Purpose);
        Assert.Equal(client.ClientId, stored.ClientId);
        Assert.NotNull(stored.UsedAt);
        Assert.DoesNotContain(mfaToken, stored.TokenHash, StringComparison.Ordinal);
        Assert.Null(stored.Data);
        Assert.Equal(TimeSpan.FromMinutes(5), stored.ExpiresAt - stored.CreatedAt);
        Assert.NotNull(await app.DbAsync(db => db.MfaFactors.AsNoTracking().Where(f => f.UserId == userId).Select(f => f.LastUsedStep).SingleAsync()));
        Assert.False(string.IsNullOrEmpty(tokens["refresh_token"]?.GetValue<string>()));
        var id = Jwt.Payload(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(userId, id["sub"]!.GetValue<string>());
        Assert.Equal("ada@example.com", id["email"]!.GetValue<string>());
        Assert.Equal(["pwd", "otp", "mfa"], id["amr"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(_host.Clock.GetUtcNow().ToUnixTimeSeconds(), id["auth_time"]!.GetValue<long>());
        Assert.Equal(["pwd", "otp", "mfa"], Jwt.Payload(tokens["access_token"]!.GetValue<string>())["amr"]!.AsArray().Select(a => a!.GetValue<string>()));

        var session = Assert.Single(await SessionsAsync(userId));
        Assert.Equal("pwd otp mfa", session.Amr);
        var signedIn = await app.DbAsync(db => db.AuditEvents.AsNoTracking().SingleAsync(e => e.TargetId == userId && e.Action == "user.signed_in"));
        Assert.Equal($"amr=pwd otp mfa client={client.ClientId}", signedIn.Reason);

        // A refresh keeps how and when the user signed in.
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        var refreshed = await (await client.TokenAsync(http, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>() }))
            .ReadJsonAsync(200);
        var again = Jwt.Payload(refreshed["id_token"]!.GetValue<string>());
        Assert.Equal(["pwd", "otp", "mfa"], again["amr"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(id["auth_time"]!.GetValue<long>(), again["auth_time"]!.GetValue<long>());
    }

    [Fact]
    public async Task The_mfa_token_is_single_use_and_a_replayed_code_is_refused()
    {
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "grace@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var http = _host.Client();

        var first = await client.MfaTokenAsync(http, "grace@example.com");
        var code = _host.Code(totp);
        await (await client.OtpAsync(http, first, otp: code)).ShouldBeAsync(200);

        // The spent mfa_token, even with a new code, is refused.
        _host.NextStep();
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, first, otp: _host.Code(totp))));

        // A new mfa_token with the code already used in its step is refused as a replay...
        var second = await client.MfaTokenAsync(http, "grace@example.com");
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, second, otp: code)));
        Assert.Contains("replayed_otp", await FailureReasonsAsync(userId));

        // ...and the same mfa_token then takes the current code.
        await (await client.OtpAsync(http, second, otp: _host.Code(totp))).ShouldBeAsync(200);
        Assert.Equal(2, (await SessionsAsync(userId)).Count);
    }

    [Fact]
    public async Task An_altered_or_foreign_mfa_token_is_refused_and_two_racing_uses_of_one_give_one_session()
    {
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "mary@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var http = _host.Client();
        var token = await client.MfaTokenAsync(http, "mary@example.com");

        // One character changed anywhere in the sealed part, or a made-up token of the same shape: unknown tokens.
        var altered = token[..^6] + (token[^6] == 'A' ? 'B' : 'A') + token[^5..];
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, altered, otp: _host.Code(totp))));
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, "mt1." + new string('A', 200), otp: _host.Code(totp))));
        Assert.Empty(await SessionsAsync(userId));

        // The same token and code sent twice at once: the session's transaction spends the token and claims the
        // code's step together, so exactly one of them signs in.
        _host.NextStep();
        var code = _host.Code(totp);
        var token2 = await client.MfaTokenAsync(http, "mary@example.com");
        using var other = _host.Client();
        var answers = await Task.WhenAll(client.OtpAsync(http, token2, otp: code), client.OtpAsync(other, token2, otp: code));
        Assert.Equal(1, answers.Count(a => a.IsSuccessStatusCode));
        Assert.Single(await SessionsAsync(userId));
    }

    [Fact]
    public async Task The_mfa_token_expires_after_five_minutes()
    {
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "linus@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var http = _host.Client();

        var stale = await client.MfaTokenAsync(http, "linus@example.com");
        _host.Clock.Advance(TimeSpan.FromMinutes(5).Add(TimeSpan.FromSeconds(1)));
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, stale, otp: _host.Code(totp))));
        Assert.Empty(await SessionsAsync(userId));

        // Control: one issued just before the same wait would run out works.
        var fresh = await client.MfaTokenAsync(http, "linus@example.com");
        _host.Clock.Advance(TimeSpan.FromMinutes(4).Add(TimeSpan.FromSeconds(50)));
        await (await client.OtpAsync(http, fresh, otp: _host.Code(totp))).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Only_the_client_the_mfa_token_was_issued_to_may_redeem_it()
    {
        var issuer = await GrantClient.CreateAsync(app);
        var other = await GrantClient.CreateAsync(app, tenantId: issuer.TenantId);
        var userId = await app.CreateUserIdAsync(issuer.TenantId, "barbara@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(issuer.TenantId, userId);
        using var http = _host.Client();

        var mfaToken = await issuer.MfaTokenAsync(http, "barbara@example.com");
        Assert.Equal("invalid_grant", await ErrorAsync(await other.OtpAsync(http, mfaToken, otp: _host.Code(totp))));
        Assert.Empty(await SessionsAsync(userId));

        // Control: the issuing client redeems the same token with the same (unspent) code.
        await (await issuer.OtpAsync(http, mfaToken, otp: _host.Code(totp))).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Wrong_codes_count_toward_lockout_and_the_account_locks_at_the_tenants_limit()
    {
        var client = await GrantClient.CreateAsync(app, new { lockout_policy = new { max_failed_attempts = 3, lockout_duration_minutes = 15 } });
        var userId = await app.CreateUserIdAsync(client.TenantId, "hedy@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var http = _host.Client();

        // One wrong code, then the right one on the same mfa_token: a typo is retried, and success resets the count.
        var mfaToken = await client.MfaTokenAsync(http, "hedy@example.com");
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, otp: "000000")));
        Assert.Equal(1, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.FailedLoginAttempts).SingleAsync()));
        await (await client.OtpAsync(http, mfaToken, otp: _host.Code(totp))).ShouldBeAsync(200);
        Assert.Equal(0, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.FailedLoginAttempts).SingleAsync()));

        _host.NextStep();
        mfaToken = await client.MfaTokenAsync(http, "hedy@example.com");
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, otp: "000000")));
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, recoveryCode: "AAAAA-BBBBB")));
        Assert.Equal(UserStatus.Active, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Status).SingleAsync()));
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, otp: "111111")));
        Assert.Equal(UserStatus.Locked, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Status).SingleAsync()));
        Assert.Equal(["wrong_otp", "wrong_otp", "wrong_recovery_code", "wrong_otp"], await FailureReasonsAsync(userId));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.locked")));

        // Locked: the right code no longer helps.
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, otp: _host.Code(totp))));
        Assert.Single(await SessionsAsync(userId));
    }

    [Fact]
    public async Task Too_many_wrong_codes_end_the_mfa_token()
    {
        var client = await GrantClient.CreateAsync(app, new { lockout_policy = new { max_failed_attempts = 50, lockout_duration_minutes = 15 } });
        var userId = await app.CreateUserIdAsync(client.TenantId, "ken@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var http = _host.Client();

        var mfaToken = await client.MfaTokenAsync(http, "ken@example.com");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, otp: "00000" + i)));
        }

        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, otp: _host.Code(totp))));
        Assert.Empty(await SessionsAsync(userId));

        // Control: a new mfa_token takes the same code.
        await (await client.OtpAsync(http, await client.MfaTokenAsync(http, "ken@example.com"), otp: _host.Code(totp))).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Wrong_codes_count_against_the_abuse_limits_of_the_account()
    {
        await using var limited = new MfaHost(app, b => b.UseSetting("ScaiKey:RateLimits:PerAccountPerMinute", "3"));
        var client = await GrantClient.CreateAsync(app, new { lockout_policy = new { max_failed_attempts = 50, lockout_duration_minutes = 15 } });
        var userId = await app.CreateUserIdAsync(client.TenantId, "ida@example.com", GrantClient.Password);
        var totp = await limited.EnrolAsync(client.TenantId, userId);
        using var http = limited.Client();

        // Control: a right password is no failure, and neither is a right code.
        await (await client.OtpAsync(http, await client.MfaTokenAsync(http, "ida@example.com"), otp: limited.Code(totp))).ShouldBeAsync(200);
        limited.NextStep();

        var mfaToken = await client.MfaTokenAsync(http, "ida@example.com");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, mfaToken, otp: "00000" + i)));
        }

        var refused = await client.OtpAsync(http, mfaToken, otp: limited.Code(totp));
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter is not null, await refused.Content.ReadAsStringAsync());
        Assert.Single(await SessionsAsync(userId));
    }

    [Fact]
    public async Task A_recovery_code_signs_in_once_with_amr_pwd_mfa()
    {
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "alan@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        using var http = _host.Client();

        var tokens = await (await client.OtpAsync(http, await client.MfaTokenAsync(http, "alan@example.com"), recoveryCode: totp.RecoveryCodes[0].ToLowerInvariant()))
            .ReadJsonAsync(200);
        Assert.Equal(["pwd", "mfa"], Jwt.Payload(tokens["id_token"]!.GetValue<string>())["amr"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.mfa_recovery_code_used")));

        var again = await client.MfaTokenAsync(http, "alan@example.com");
        Assert.Equal("invalid_grant", await ErrorAsync(await client.OtpAsync(http, again, recoveryCode: totp.RecoveryCodes[0])));
        Assert.Equal(["wrong_recovery_code"], await FailureReasonsAsync(userId));
        Assert.Equal("invalid_request", await ErrorAsync(await client.OtpAsync(http, again, otp: _host.Code(totp), recoveryCode: totp.RecoveryCodes[1])));
        await (await client.OtpAsync(http, again, recoveryCode: totp.RecoveryCodes[1])).ShouldBeAsync(200);
    }

    [Fact]
    public async Task The_tenant_policy_refuses_tokens_until_a_factor_is_enrolled()
    {
        var client = await GrantClient.CreateAsync(app, new { mfa_policy = new { required = true } });
        var userId = await app.CreateUserIdAsync(client.TenantId, "mary@example.com", GrantClient.Password);
        using var http = _host.Client();

        var refused = await (await client.PasswordAsync(http, "mary@example.com")).ReadJsonAsync(400);
        Assert.Equal("mfa_enrollment_required", refused["error"]!.GetValue<string>());
        Assert.Null(refused["mfa_token"]);
        Assert.Null(refused["access_token"]);
        Assert.Empty(await SessionsAsync(userId));

        var totp = await _host.EnrolAsync(client.TenantId, userId);
        var mfaToken = await client.MfaTokenAsync(http, "mary@example.com");
        await (await client.OtpAsync(http, mfaToken, otp: _host.Code(totp))).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Only_applications_allowed_the_password_grant_may_use_the_otp_grant_also_those_registered_before_it()
    {
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "joan@example.com", GrantClient.Password);
        var totp = await _host.EnrolAsync(client.TenantId, userId);
        var spa = await OidcTestClient.CreateAsync(app);
        using var http = _host.Client();

        // An application without the password grant may not use it (OpenIddict checks the permission).
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:scaikey:params:oauth:grant-type:mfa-otp", ["client_id"] = spa.ClientId, ["mfa_token"] = "x", ["otp"] = "123456",
        });
        Assert.Equal("unauthorized_client", await ErrorAsync(await http.PostAsync("/connect/token", form)));

        // A registration from before the grant existed (its permission removed here) gets it at the next start.
        await app.DbAsync(async db =>
        {
            var registration = await db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>()
                .SingleAsync(a => a.ClientId == client.ClientId);
            var permissions = System.Text.Json.JsonSerializer.Deserialize<List<string>>(registration.Permissions!)!;
            Assert.True(permissions.Remove("gt:urn:scaikey:params:oauth:grant-type:mfa-otp"), registration.Permissions);
            registration.Permissions = System.Text.Json.JsonSerializer.Serialize(permissions);
            Assert.DoesNotContain("mfa-otp", registration.Permissions, StringComparison.Ordinal);
            await db.SaveChangesAsync();
        });
        await using var restarted = new MfaHost(app);
        using var after = restarted.Client();
        var mfaToken = await client.MfaTokenAsync(after, "joan@example.com");
        await (await client.OtpAsync(after, mfaToken, otp: totp.CodeAt(restarted.Clock.GetUtcNow().AddSeconds(30)))).ShouldBeAsync(200);
    }
}
