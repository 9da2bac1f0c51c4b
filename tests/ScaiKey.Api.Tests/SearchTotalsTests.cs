using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Search totals are reused while the tenant's directory version stands; every way a user can enter, leave or
/// change its match (the API, another writer's raw SQL standing in for another instance or the importer) raises
/// the version, so a repeated search never answers a stale total.
/// </summary>
public sealed class SearchTotalsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static async Task<int> TotalAsync(HttpClient admin, string tenant, string query) =>
        (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?{query}")).ReadJsonAsync(200))["pagination"]!["total_items"]!.GetValue<int>();

    private Task<long> VersionAsync(string tenant) =>
        app.DbAsync(db => db.TenantDirectoryVersions.Where(v => v.TenantId == tenant).Select(v => v.Version).FirstOrDefaultAsync());

    [Fact]
    public async Task A_repeated_search_total_follows_every_change_that_can_alter_it()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var first = await app.CreateUserIdAsync(tenant, "marigold.one@example.com");
        await app.CreateUserIdAsync(tenant, "marigold.two@example.com");
        await app.CreateUserIdAsync(tenant, "someone.else@example.com");
        Assert.Equal(2, await TotalAsync(admin, tenant, "search=marigold"));
        Assert.Equal(2, await TotalAsync(admin, tenant, "search=marigold"));

        // Through the API: a create, a rename out of the match, a status change (with a status filter), a delete.
        var third = await app.CreateUserIdAsync(tenant, "marigold.three@example.com");
        Assert.Equal(3, await TotalAsync(admin, tenant, "search=marigold"));
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{first}", new { email = "renamed.one@example.com" })).ShouldBeAsync(200);
        Assert.Equal(2, await TotalAsync(admin, tenant, "search=marigold"));
        Assert.Equal(0, await TotalAsync(admin, tenant, "search=marigold&status=DISABLED"));
        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{tenant}/users/{third}/status", new { status = "DISABLED" })).ShouldBeAsync(200);
        Assert.Equal(1, await TotalAsync(admin, tenant, "search=marigold&status=DISABLED"));
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{third}?confirm_email=marigold.three@example.com")).ShouldBeAsync(204);
        Assert.Equal(1, await TotalAsync(admin, tenant, "search=marigold"));

        // Written behind this instance's back: a rename, an insert and a hard delete by plain SQL.
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE users SET search_text = {"marigold.renamed"} WHERE id = {first}"));
        Assert.Equal(2, await TotalAsync(admin, tenant, "search=marigold"));
        var at = DateTime.UtcNow;
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"""
            INSERT INTO users (id, tenant_id, email, email_normalized, locale, timezone, email_verified, status, identity_source,
                mfa_enabled, require_password_change, failed_login_attempts, search_text, created_at, version)
            VALUES ({"raw-marigold"}, {tenant}, {"raw@example.com"}, {"raw@example.com"}, 'en', 'UTC', {false}, 'ACTIVE', 'LOCAL',
                {false}, {false}, 0, {"raw marigold"}, {at}, 1)
            """));
        Assert.Equal(3, await TotalAsync(admin, tenant, "search=marigold"));
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"DELETE FROM users WHERE id = {"raw-marigold"}"));
        Assert.Equal(2, await TotalAsync(admin, tenant, "search=marigold"));
    }

    [Fact]
    public async Task Changes_a_search_cannot_see_leave_the_version_alone_and_other_tenants_are_untouched()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant, "quiet@example.com", "Quartz-Lantern-93!");
        var before = await VersionAsync(tenant);
        var otherBefore = await VersionAsync(other);

        // A sign-in's bookkeeping and a phone number change no search result.
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE users SET last_login_at = {DateTime.UtcNow}, failed_login_attempts = 2, phone = {"+15550100"} WHERE id = {user}"));
        Assert.Equal(before, await VersionAsync(tenant));

        await app.CreateUserIdAsync(tenant, "loud@example.com");
        Assert.True(await VersionAsync(tenant) > before);
        Assert.Equal(otherBefore, await VersionAsync(other));
    }
}
