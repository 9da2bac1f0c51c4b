using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Security;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>The three reset methods of the tenant route and the admin route's direct reset.</summary>
public sealed class PasswordResetTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";
    private const string NewPassword = "Violet-Harbor-2718#";

    private async Task<(string Tenant, string User, string Email, HttpClient Admin)> UserAsync(object? settings = null)
    {
        var tenant = await app.CreateTenantAsync(settings: settings);
        var email = $"reset{Guid.NewGuid():N}@example.com";
        var user = await app.CreateUserIdAsync(tenant, email, Password);
        await app.DbAsync(db =>
        {
            db.UserSessions.Add(new UserSession { Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, CreatedAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow });
            return db.SaveChangesAsync();
        });
        return (tenant, user, email, await app.AdminAsync());
    }

    private Task<User> StoredAsync(string user) => app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user));

    private bool Verifies(string hash, string password) => app.Host.Services.GetRequiredService<PasswordHasher>().Verify(hash, password);

    private static Task<HttpResponseMessage> ResetAsync(HttpClient client, string tenant, string user, object body) =>
        client.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/password/reset", body);

    [Fact]
    public async Task A_federated_user_gets_no_local_password_unless_the_tenant_allows_one()
    {
        var (tenant, user, _, admin) = await UserAsync();
        await app.DbAsync(db => db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(x => x.SetProperty(u => u.IdentitySource, IdentitySource.Oidc)));
        var before = (await StoredAsync(user)).PasswordHash;

        foreach (var body in new object[] { new { method = "EMAIL" }, new { method = "MANUAL", new_password = NewPassword }, new { method = "TEMPORARY" } })
        {
            Assert.Equal(["body.method|value_error"], await (await ResetAsync(admin, tenant, user, body)).ReadValidationErrorsAsync());
        }

        var adminRoute = await admin.PostAsJsonAsync($"/api/v1/admin/users/{user}/reset-password", new { new_password = NewPassword });
        Assert.Equal(["body.new_password|value_error"], await adminRoute.ReadValidationErrorsAsync());
        Assert.Equal(before, (await StoredAsync(user)).PasswordHash);
        Assert.Empty(await app.DbAsync(db => db.UserActionTokens.AsNoTracking().Where(t => t.UserId == user).ToListAsync()));

        // The tenant allows local passwords for OIDC and SAML users: the reset goes through.
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{tenant}", new { settings = new { federation_policy = new { allow_local_passwords = true } } }))
            .ShouldBeAsync(200);
        await (await ResetAsync(admin, tenant, user, new { method = "MANUAL", new_password = NewPassword })).ShouldBeAsync(200);
        Assert.True(Verifies((await StoredAsync(user)).PasswordHash!, NewPassword));

        // An LDAP user's password is the directory's, whatever the tenant allows.
        await app.DbAsync(db => db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(x => x.SetProperty(u => u.IdentitySource, IdentitySource.Ldap)));
        Assert.Equal(["body.method|value_error"],
            await (await ResetAsync(admin, tenant, user, new { method = "TEMPORARY" })).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task A_federated_users_old_local_password_signs_in_only_while_the_tenant_allows_local_passwords()
    {
        var grant = await Infrastructure.PasswordGrantApp.CreateAsync(app);
        var email = $"fed{Guid.NewGuid():N}@example.com";
        var user = await grant.CreateUserAsync(app, email);
        using var http = app.Anonymous();
        Task<HttpResponseMessage> SignInAsync()
        {
            var request = grant.Post("/connect/token", new()
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = Infrastructure.PasswordGrantApp.Password, ["scope"] = "openid",
            });
            return http.SendAsync(request);
        }

        await (await SignInAsync()).ShouldBeAsync(200);

        // Linked and fixed to OIDC (the mismatches endpoint does that): the hash it kept no longer signs in...
        await app.DbAsync(db => db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(x => x.SetProperty(u => u.IdentitySource, IdentitySource.Oidc)));
        await (await SignInAsync()).ShouldBeAsync(400);
        Assert.Contains(await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == user && e.Action == "user.sign_in_failed")
            .Select(e => e.Reason).ToListAsync()), r => r != null && r.Contains("local_password_not_allowed", StringComparison.Ordinal));

        // ...until the tenant allows local passwords for federated users.
        using var admin = await app.AdminAsync();
        await (await admin.PatchAsJsonAsync($"/api/v1/admin/tenants/{grant.TenantId}", new { settings = new { federation_policy = new { allow_local_passwords = true } } }))
            .ShouldBeAsync(200);
        await (await SignInAsync()).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Email_is_the_default_method_and_queues_a_single_use_link_valid_one_hour()
    {
        var (tenant, user, email, admin) = await UserAsync();
        var json = await (await ResetAsync(admin, tenant, user, new { })).ReadJsonAsync(200);
        Assert.Equal("EMAIL", json["data"]!["method"]!.GetValue<string>());
        Assert.Null(json["data"]!["temporary_password"]);
        var expires = json["data"]!["link_expires_at"]!.GetValue<DateTime>();
        Assert.InRange(expires, DateTime.UtcNow.AddMinutes(55), DateTime.UtcNow.AddMinutes(61));

        var message = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == email && m.Kind == "password_reset"));
        Assert.Contains("/reset-password?token=", app.OutboxBody(message));
        var token = await app.DbAsync(db => db.UserActionTokens.AsNoTracking().SingleAsync(t => t.UserId == user && t.Purpose == "PASSWORD_RESET"));
        Assert.DoesNotContain(token.TokenHash, app.OutboxBody(message));

        // The password only changes when the link is used, so nothing is revoked yet.
        Assert.True(Verifies((await StoredAsync(user)).PasswordHash!, Password));
    }

    [Fact]
    public async Task A_second_email_reset_invalidates_the_first_link()
    {
        var (tenant, user, _, admin) = await UserAsync();
        await (await ResetAsync(admin, tenant, user, new { method = "EMAIL" })).ShouldBeAsync(200);
        await (await ResetAsync(admin, tenant, user, new { method = "EMAIL" })).ShouldBeAsync(200);
        var open = await app.DbAsync(db => db.UserActionTokens.CountAsync(t => t.UserId == user && t.Purpose == "PASSWORD_RESET" && t.UsedAt == null));
        Assert.Equal(1, open);
    }

    [Fact]
    public async Task Email_redirect_uri_must_be_registered_for_the_tenant()
    {
        var (tenant, user, email, admin) = await UserAsync(new { allowed_redirect_uris = new[] { "https://app.example.com/reset" } });
        var errors = await (await ResetAsync(admin, tenant, user, new { method = "EMAIL", redirect_uri = "https://evil.example.com/steal" })).ReadValidationErrorsAsync();
        Assert.Equal(["body.redirect_uri|value_error"], errors);

        await (await ResetAsync(admin, tenant, user, new { method = "EMAIL", redirect_uri = "https://app.example.com/reset" })).ShouldBeAsync(200);
        var message = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == email && m.Kind == "password_reset"));
        Assert.Contains("https://app.example.com/reset?token=", app.OutboxBody(message));
    }

    [Fact]
    public async Task Manual_sets_the_password_forces_a_change_and_revokes_sessions()
    {
        var (tenant, user, email, admin) = await UserAsync();
        var before = await StoredAsync(user);
        var json = await (await ResetAsync(admin, tenant, user, new { method = "MANUAL", new_password = NewPassword })).ReadJsonAsync(200);
        Assert.True(json["data"]!["require_password_change"]!.GetValue<bool>());
        Assert.DoesNotContain(NewPassword, json.ToJsonString());

        var after = await StoredAsync(user);
        Assert.True(Verifies(after.PasswordHash!, NewPassword));
        Assert.False(Verifies(after.PasswordHash!, Password));
        Assert.True(after.RequirePasswordChange);
        Assert.True(after.PasswordChangedAt > before.PasswordChangedAt);
        Assert.NotNull(after.TokensRevokedAt);
        Assert.Equal(0, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == user && s.RevokedAt == null)));
        var notice = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == email && m.Kind == "password_changed"));
        Assert.DoesNotContain(NewPassword, app.OutboxBody(notice));

        var audit = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={user}&action=user.password_reset")).ReadJsonAsync(200);
        Assert.DoesNotContain(NewPassword, audit.ToJsonString());
        Assert.Equal(1, audit["pagination"]!["total_items"]!.GetValue<int>());
    }

    [Fact]
    public async Task Manual_needs_a_new_password_that_meets_the_policy()
    {
        var (tenant, user, email, admin) = await UserAsync();
        Assert.Equal(["body.new_password|value_error"], await (await ResetAsync(admin, tenant, user, new { method = "MANUAL" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.new_password|value_error"], await (await ResetAsync(admin, tenant, user, new { method = "MANUAL", new_password = "short" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.new_password|value_error"], await (await ResetAsync(admin, tenant, user, new { method = "MANUAL", new_password = "password1234" })).ReadValidationErrorsAsync());
        var local = email.Split('@')[0];
        Assert.Equal(["body.new_password|value_error"], await (await ResetAsync(admin, tenant, user, new { method = "MANUAL", new_password = local.ToUpperInvariant() + "-x9" })).ReadValidationErrorsAsync());
        Assert.True(Verifies((await StoredAsync(user)).PasswordHash!, Password));
    }

    [Fact]
    public async Task Temporary_returns_a_one_time_password_once()
    {
        var (tenant, user, _, admin) = await UserAsync();
        var json = await (await ResetAsync(admin, tenant, user, new { method = "TEMPORARY" })).ReadJsonAsync(200);
        var temporary = json["data"]!["temporary_password"]!.GetValue<string>();
        Assert.True(temporary.Length >= 16);
        var stored = await StoredAsync(user);
        Assert.True(Verifies(stored.PasswordHash!, temporary));
        Assert.True(stored.RequirePasswordChange);

        var read = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(temporary, read);
    }

    [Fact]
    public async Task Method_and_field_errors_are_422()
    {
        var (tenant, user, _, admin) = await UserAsync();
        Assert.Equal(["body.method|literal_error"], await (await ResetAsync(admin, tenant, user, new { method = "SMS" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.new_password|value_error"], await (await ResetAsync(admin, tenant, user, new { method = "TEMPORARY", new_password = NewPassword })).ReadValidationErrorsAsync());
        Assert.Contains("body.hash|extra_forbidden", await (await ResetAsync(admin, tenant, user, new { hash = "x" })).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task Admin_route_sets_the_password_directly_and_can_skip_the_forced_change()
    {
        var (_, user, _, admin) = await UserAsync();
        var json = await (await admin.PostAsJsonAsync($"/api/v1/admin/users/{user}/reset-password",
            new { new_password = NewPassword, require_password_change = false })).ReadJsonAsync(200);
        Assert.False(json["data"]!["require_password_change"]!.GetValue<bool>());
        var stored = await StoredAsync(user);
        Assert.True(Verifies(stored.PasswordHash!, NewPassword));
        Assert.False(stored.RequirePasswordChange);
        Assert.NotNull(stored.TokensRevokedAt);

        await (await admin.PostAsJsonAsync($"/api/v1/admin/users/{user}/reset-password", new { new_password = NewPassword + "2" })).ReadJsonAsync(200);
        Assert.True((await StoredAsync(user)).RequirePasswordChange); // defaults to true

        Assert.Equal(["body.new_password|missing"], await (await admin.PostAsJsonAsync($"/api/v1/admin/users/{user}/reset-password", new { })).ReadValidationErrorsAsync());
    }
}
