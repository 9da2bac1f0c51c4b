using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>Status transitions, unlock and MFA disable: what each changes, what it revokes, what it audits.</summary>
public sealed class UserLifecycleTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";

    private async Task<(string Tenant, string User, HttpClient Admin)> UserAsync(string? password = Password)
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant, password: password);
        return (tenant, user, await app.AdminAsync());
    }

    private Task AddSessionAsync(string tenant, string user) => app.DbAsync(db =>
    {
        db.UserSessions.Add(new UserSession
        {
            Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, UserAgent = "test", IpAddress = "127.0.0.1",
            CreatedAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow,
        });
        return db.SaveChangesAsync();
    });

    private Task<User> StoredAsync(string user) => app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user));

    private Task<int> OpenSessionsAsync(string user) => app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == user && s.RevokedAt == null));

    private static Task<HttpResponseMessage> PutStatusAsync(HttpClient client, string tenant, string user, object body) =>
        client.PutAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/status", body);

    [Fact]
    public async Task Disable_returns_the_user_and_revokes_sessions_and_tokens()
    {
        var (tenant, user, admin) = await UserAsync();
        await AddSessionAsync(tenant, user);
        var json = await (await PutStatusAsync(admin, tenant, user, new { status = "DISABLED", reason = "left the company" })).ReadJsonAsync(200);
        Assert.Equal("DISABLED", json["data"]!["status"]!.GetValue<string>());
        Assert.Equal(0, await OpenSessionsAsync(user));
        var stored = await StoredAsync(user);
        Assert.NotNull(stored.TokensRevokedAt);
        Assert.Equal("left the company", stored.StatusReason);

        var audit = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={user}&action=user.status_changed")).ReadJsonAsync(200);
        var entry = Assert.Single(audit["data"]!.AsArray());
        Assert.Equal("left the company", entry!["reason"]!.GetValue<string>());
        Assert.Contains("status", entry["changes"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task Active_from_pending_email_verification_marks_the_email_verified()
    {
        var (tenant, user, admin) = await UserAsync(password: null);
        var json = await (await PutStatusAsync(admin, tenant, user, new { status = "ACTIVE" })).ReadJsonAsync(200);
        Assert.Equal("ACTIVE", json["data"]!["status"]!.GetValue<string>());
        Assert.True(json["data"]!["email_verified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Active_from_pending_approval_approves()
    {
        var tenant = await app.CreateTenantAsync(settings: new { require_approval = true });
        var user = await app.CreateUserIdAsync(tenant, password: Password);
        using var admin = await app.AdminAsync();
        var before = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200);
        Assert.Equal("PENDING_APPROVAL", before["data"]!["status"]!.GetValue<string>());
        var json = await (await PutStatusAsync(admin, tenant, user, new { status = "ACTIVE" })).ReadJsonAsync(200);
        Assert.Equal("ACTIVE", json["data"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Active_from_locked_unlocks_and_resets_the_failure_counter()
    {
        var (tenant, user, admin) = await UserAsync();
        await app.DbAsync(db => db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.Status, UserStatus.Locked).SetProperty(u => u.FailedLoginAttempts, 5).SetProperty(u => u.LockedAt, DateTime.UtcNow)));
        await (await PutStatusAsync(admin, tenant, user, new { status = "ACTIVE" })).ReadJsonAsync(200);
        var stored = await StoredAsync(user);
        Assert.Equal(UserStatus.Active, stored.Status);
        Assert.Equal(0, stored.FailedLoginAttempts);
        Assert.Null(stored.LockedAt);
    }

    [Fact]
    public async Task Lock_sets_locked_and_blocks_by_revoking_sessions()
    {
        var (tenant, user, admin) = await UserAsync();
        await AddSessionAsync(tenant, user);
        await (await PutStatusAsync(admin, tenant, user, new { status = "LOCKED" })).ReadJsonAsync(200);
        var stored = await StoredAsync(user);
        Assert.Equal(UserStatus.Locked, stored.Status);
        Assert.NotNull(stored.LockedAt);
        Assert.Equal(0, await OpenSessionsAsync(user));
    }

    [Fact]
    public async Task Terminate_sessions_on_active_revokes_without_changing_status()
    {
        var (tenant, user, admin) = await UserAsync();
        await AddSessionAsync(tenant, user);
        await AddSessionAsync(tenant, user);
        await (await PutStatusAsync(admin, tenant, user, new { status = "ACTIVE", terminate_sessions = true })).ReadJsonAsync(200);
        Assert.Equal(0, await OpenSessionsAsync(user));
        Assert.NotNull((await StoredAsync(user)).TokensRevokedAt);
    }

    [Fact]
    public async Task Active_without_terminate_sessions_keeps_sessions()
    {
        var (tenant, user, admin) = await UserAsync();
        await AddSessionAsync(tenant, user);
        await (await PutStatusAsync(admin, tenant, user, new { status = "ACTIVE" })).ReadJsonAsync(200);
        Assert.Equal(1, await OpenSessionsAsync(user));
    }

    [Theory]
    [InlineData("PENDING_APPROVAL", "value_error")]
    [InlineData("PENDING_EMAIL_VERIFICATION", "value_error")]
    [InlineData("SUSPENDED", "enum")]
    public async Task Status_targets_other_than_active_disabled_locked_are_422(string status, string type)
    {
        var (tenant, user, admin) = await UserAsync();
        var errors = await (await PutStatusAsync(admin, tenant, user, new { status })).ReadValidationErrorsAsync();
        Assert.Equal(["body.status|" + type], errors);
    }

    [Fact]
    public async Task Status_body_errors_are_all_listed()
    {
        var (tenant, user, admin) = await UserAsync();
        var errors = await (await admin.PutAsync($"/api/v1/tenants/{tenant}/users/{user}/status",
            HttpAssertions.Json("""{"reason": 5, "terminate_sessions": "yes", "force": true}"""))).ReadValidationErrorsAsync();
        Assert.Contains("body.status|missing", errors);
        Assert.Contains("body.reason|string_type", errors);
        Assert.Contains("body.terminate_sessions|bool_type", errors);
        Assert.Contains("body.force|extra_forbidden", errors);
    }

    [Fact]
    public async Task Status_honours_if_match()
    {
        var (tenant, user, admin) = await UserAsync();
        var get = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}");
        var etag = get.Headers.ETag!.Tag;
        using var stale = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/tenants/{tenant}/users/{user}/status") { Content = HttpAssertions.Json(new { status = "DISABLED" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"999\"");
        await (await admin.SendAsync(stale)).ReadProblemAsync(412);
        Assert.Equal(UserStatus.Active, (await StoredAsync(user)).Status);

        using var fresh = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/tenants/{tenant}/users/{user}/status") { Content = HttpAssertions.Json(new { status = "DISABLED" }) };
        fresh.Headers.TryAddWithoutValidation("If-Match", etag);
        var response = await admin.SendAsync(fresh);
        await response.ShouldBeAsync(200);
        Assert.NotEqual(etag, response.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Admin_unlock_is_idempotent_and_resets_the_counter()
    {
        var (tenant, user, admin) = await UserAsync();
        await app.DbAsync(db => db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.Status, UserStatus.Locked).SetProperty(u => u.FailedLoginAttempts, 7)));
        var first = await (await admin.PostAsync($"/api/v1/admin/users/{user}/unlock", null)).ReadJsonAsync(200);
        Assert.Equal("ACTIVE", first["data"]!["status"]!.GetValue<string>());
        Assert.Equal(tenant, first["data"]!["tenant_id"]!.GetValue<string>());
        var second = await (await admin.PostAsync($"/api/v1/admin/users/{user}/unlock", null)).ReadJsonAsync(200);
        Assert.Equal("ACTIVE", second["data"]!["status"]!.GetValue<string>());
        Assert.Equal(0, (await StoredAsync(user)).FailedLoginAttempts);
        var audit = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={user}&action=user.unlocked")).ReadJsonAsync(200);
        Assert.Equal(2, audit["pagination"]!["total_items"]!.GetValue<int>());
    }

    [Fact]
    public async Task Admin_mfa_disable_removes_factors_revokes_sessions_and_is_idempotent()
    {
        var (tenant, user, admin) = await UserAsync();
        await AddSessionAsync(tenant, user);
        await app.DbAsync(async db =>
        {
            await db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(s => s.SetProperty(u => u.MfaEnabled, true));
            db.MfaFactors.Add(new MfaFactor { Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, Type = "TOTP", SecretEncrypted = "sealed", CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        });
        var json = await (await admin.PostAsync($"/api/v1/admin/users/{user}/mfa/disable", null)).ReadJsonAsync(200);
        Assert.False(json["data"]!["mfa_enabled"]!.GetValue<bool>());
        Assert.Equal(0, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == user)));
        Assert.Equal(0, await OpenSessionsAsync(user));
        await (await admin.PostAsync($"/api/v1/admin/users/{user}/mfa/disable", null)).ReadJsonAsync(200);
    }

    [Fact]
    public async Task Admin_actions_on_an_unknown_user_are_404()
    {
        using var admin = await app.AdminAsync();
        var missing = Guid.NewGuid();
        await (await admin.PostAsync($"/api/v1/admin/users/{missing}/unlock", null)).ReadProblemAsync(404);
        await (await admin.PostAsync($"/api/v1/admin/users/{missing}/mfa/disable", null)).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/admin/users/{missing}/groups")).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"/api/v1/admin/users/{missing}/reset-password", new { new_password = Password })).ReadProblemAsync(404);
        var (tenant, _, _) = await UserAsync();
        await (await PutStatusAsync(admin, tenant, missing.ToString(), new { status = "ACTIVE" })).ReadProblemAsync(404);
    }
}
