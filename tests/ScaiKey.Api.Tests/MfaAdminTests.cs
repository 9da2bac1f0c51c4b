using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The reference's MFA fields made true (issue 14, point 6): mfa_enabled and its list filter follow confirmed factors,
/// include=mfa_factors shows them without secrets, and the admin mfa/disable removes factors, recovery codes and
/// unfinished enrolments, ends sessions and mails the user.
/// </summary>
public sealed class MfaAdminTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static async Task<bool> ListedAsync(HttpClient admin, string tenant, string userId, bool mfa) =>
        (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?mfa_enabled={(mfa ? "true" : "false")}&per_page=100")).ReadJsonAsync(200))["data"]!
            .AsArray().Any(u => u!["id"]!.GetValue<string>() == userId);

    [Fact]
    public async Task Mfa_enabled_the_list_filter_and_include_mfa_factors_follow_confirmed_factors_only()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        using var admin = await app.AdminAsync();
        using var me = await portal.MeAsync(app, email);

        // An enrolment begun but not confirmed changes nothing.
        await (await me.PostAsJsonAsync("/api/v1/me/mfa/totp", new { name = "Unfinished" })).ShouldBeAsync(201);
        var before = (await (await admin.GetAsync($"/api/v1/tenants/{portal.TenantId}/users/{userId}?include=mfa_factors")).ReadJsonAsync(200))["data"]!;
        Assert.False(before["mfa_enabled"]!.GetValue<bool>());
        Assert.Empty(before["mfa_factors"]!.AsArray());
        Assert.True(await ListedAsync(admin, portal.TenantId, userId, mfa: false));
        Assert.False(await ListedAsync(admin, portal.TenantId, userId, mfa: true));

        var (factorId, _, _) = await AccountApp.EnrolTotpAsync(me, DateTime.UtcNow, "Work phone");
        var response = await admin.GetAsync($"/api/v1/tenants/{portal.TenantId}/users/{userId}?include=mfa_factors");
        var raw = await response.Content.ReadAsStringAsync();
        var after = (await response.ReadJsonAsync(200))["data"]!;
        Assert.True(after["mfa_enabled"]!.GetValue<bool>());
        var factor = Assert.Single(after["mfa_factors"]!.AsArray())!;
        Assert.Equal((factorId, "TOTP", "Work phone"), (factor["id"]!.GetValue<string>(), factor["type"]!.GetValue<string>(), factor["name"]!.GetValue<string>()));
        Assert.NotNull(factor["created_at"]);
        Assert.NotNull(factor["last_used_at"]);
        Assert.DoesNotContain("secret", raw, StringComparison.OrdinalIgnoreCase);
        Assert.True(await ListedAsync(admin, portal.TenantId, userId, mfa: true));
        Assert.False(await ListedAsync(admin, portal.TenantId, userId, mfa: false));
    }

    [Fact]
    public async Task Admin_mfa_disable_removes_factors_recovery_codes_and_enrolments_ends_sessions_and_mails_the_user()
    {
        var portal = await AccountApp.CreateAsync(app);
        var (userId, email) = await portal.CreateUserAsync(app);
        var (bystanderId, bystanderEmail) = await portal.CreateUserAsync(app);
        using var me = await portal.MeAsync(app, email);
        using var bystander = await portal.MeAsync(app, bystanderEmail);
        await AccountApp.EnrolTotpAsync(me, DateTime.UtcNow);
        await AccountApp.EnrolTotpAsync(bystander, DateTime.UtcNow);
        await (await me.PostAsJsonAsync("/api/v1/me/mfa/totp", new { name = "Half-done" })).ShouldBeAsync(201);
        Assert.Equal(10, await app.DbAsync(db => db.MfaRecoveryCodes.CountAsync(r => r.UserId == userId)));

        using var admin = await app.AdminAsync();
        var data = (await (await admin.PostAsync($"/api/v1/admin/users/{userId}/mfa/disable", null)).ReadJsonAsync(200))["data"]!;
        Assert.False(data["mfa_enabled"]!.GetValue<bool>());

        Assert.Equal(0, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == userId)));
        Assert.Equal(0, await app.DbAsync(db => db.MfaRecoveryCodes.CountAsync(r => r.UserId == userId)));
        await (await me.GetAsync("/api/v1/me")).ShouldBeAsync(401);
        var message = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == email && m.Kind == "mfa_disabled"));
        Assert.Contains("signed you out", app.OutboxBody(message), StringComparison.Ordinal);

        // Control: another user of the tenant keeps everything.
        Assert.Equal(1, await app.DbAsync(db => db.MfaFactors.CountAsync(f => f.UserId == bystanderId)));
        Assert.Equal(10, await app.DbAsync(db => db.MfaRecoveryCodes.CountAsync(r => r.UserId == bystanderId)));
        await (await bystander.GetAsync("/api/v1/me")).ShouldBeAsync(200);
        Assert.False(await app.DbAsync(db => db.EmailOutbox.AnyAsync(m => m.ToAddress == bystanderEmail && m.Kind == "mfa_disabled")));
    }
}
