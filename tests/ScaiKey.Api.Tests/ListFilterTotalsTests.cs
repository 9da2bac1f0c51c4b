using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The exact totals of OU, group and MFA filters (and their combinations) are cached under the tenant's directory
/// version, and deep pages of those filters start from page anchors (issue 18). Both are only right if every way a
/// user can enter or leave such a filter raises the version: a change of a user's OU or MFA enrolment, a membership
/// added or removed, by the API or behind its back (raw SQL standing in for another instance or the importer); and a
/// move in the OU or group tree changes the cache key.
/// </summary>
public sealed class ListFilterTotalsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static async Task<JsonNode> ListAsync(HttpClient admin, string tenant, string query) =>
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?{query}")).ReadJsonAsync(200);

    private static async Task<int> TotalAsync(HttpClient admin, string tenant, string query) =>
        (await ListAsync(admin, tenant, query))["pagination"]!["total_items"]!.GetValue<int>();

    private static List<string> IdsOf(JsonNode page) => page["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();

    private Task<long> VersionAsync(string tenant) =>
        app.DbAsync(db => db.TenantDirectoryVersions.Where(v => v.TenantId == tenant).Select(v => v.Version).FirstOrDefaultAsync());

    /// <summary>Each query's total as the API gives it, against the total it must be.</summary>
    private static async Task AssertTotalsAsync(HttpClient admin, string tenant, params (string Query, int Expected)[] cases)
    {
        foreach (var (query, expected) in cases)
        {
            var total = await TotalAsync(admin, tenant, query);
            Assert.True(expected == total, $"{query}: want {expected}, got {total}");
        }
    }

    private Task ExecAsync(FormattableString sql) => app.DbAsync(db => db.Database.ExecuteSqlAsync(sql));

    [Fact]
    public async Task Filter_totals_follow_every_ou_group_and_mfa_change_by_any_writer()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var sales = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Sales" });
        var emea = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "EMEA", parent_id = sales });
        var team = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var squad = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Squad", parent_group_id = team });
        var a = (await app.CreateUserAsync(tenant, new { email = "a@example.com", ou_id = sales }))["id"]!.GetValue<string>();
        var b = (await app.CreateUserAsync(tenant, new { email = "b@example.com", ou_id = emea }))["id"]!.GetValue<string>();
        var c = await app.CreateUserIdAsync(tenant, "c@example.com");
        string Combined(string mfa) => $"ou_id={sales}&group_id={team}&mfa_enabled={mfa}";

        // Asked twice each: the second answer comes from the cache, and must still be right after every change below.
        for (var i = 0; i < 2; i++)
        {
            await AssertTotalsAsync(admin, tenant,
                ($"ou_id={sales}", 2), ($"ou_id={emea}", 1), ($"group_id={team}", 0), ("mfa_enabled=true", 0), ("mfa_enabled=false", 3), (Combined("false"), 0));
        }

        // Memberships through the API (in the nested squad, so the team's total counts it too) and by raw SQL.
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{squad}/members", new { user_ids = new[] { a } })).ShouldBeAsync(200);
        await AssertTotalsAsync(admin, tenant, ($"group_id={team}", 1), ($"group_id={squad}", 1), (Combined("false"), 1));
        await ExecAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({team}, {b}, {tenant}, {DateTime.UtcNow})");
        await AssertTotalsAsync(admin, tenant, ($"group_id={team}", 2), ($"group_id={squad}", 1), (Combined("false"), 2));
        await ExecAsync($"DELETE FROM group_members WHERE group_id = {squad} AND user_id = {a}");
        await AssertTotalsAsync(admin, tenant, ($"group_id={team}", 1), ($"group_id={squad}", 0), (Combined("false"), 1));
        await ExecAsync($"UPDATE group_members SET user_id = {c} WHERE group_id = {team} AND user_id = {b}");
        await AssertTotalsAsync(admin, tenant, ($"group_id={team}", 1), (Combined("false"), 0));
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{team}/members/{c}")).ShouldBeAsync(204);
        await AssertTotalsAsync(admin, tenant, ($"group_id={team}", 0));

        // MFA enrolment and OU moves of users, by raw SQL and through the API.
        await ExecAsync($"UPDATE users SET mfa_enabled = {true} WHERE id = {b}");
        await AssertTotalsAsync(admin, tenant, ("mfa_enabled=true", 1), ("mfa_enabled=false", 2), ($"ou_id={sales}&mfa_enabled=true", 1));
        await ExecAsync($"UPDATE users SET ou_id = NULL WHERE id = {b}");
        await AssertTotalsAsync(admin, tenant, ($"ou_id={sales}", 1), ($"ou_id={emea}", 0), ($"ou_id={sales}&mfa_enabled=true", 0));
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{c}", new { ou_id = emea })).ShouldBeAsync(200);
        await AssertTotalsAsync(admin, tenant, ($"ou_id={sales}", 2), ($"ou_id={emea}", 1));

        // A move in a tree changes which units and groups a filter means: the key, not the version.
        await ExecAsync($"UPDATE organizational_units SET parent_id = NULL WHERE id = {emea}");
        await AssertTotalsAsync(admin, tenant, ($"ou_id={sales}", 1), ($"ou_id={emea}", 1));
        await ExecAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({squad}, {a}, {tenant}, {DateTime.UtcNow})");
        await AssertTotalsAsync(admin, tenant, ($"group_id={team}", 1));
        await ExecAsync($"UPDATE groups SET parent_group_id = NULL WHERE id = {squad}");
        await AssertTotalsAsync(admin, tenant, ($"group_id={team}", 0), ($"group_id={squad}", 1));

        // A soft delete and a hard delete (the membership goes with the row).
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{a}?confirm_email=a@example.com")).ShouldBeAsync(204);
        await AssertTotalsAsync(admin, tenant, ($"group_id={squad}", 0), ("mfa_enabled=false", 1));
        await ExecAsync($"DELETE FROM users WHERE id = {b}");
        await AssertTotalsAsync(admin, tenant, ("mfa_enabled=true", 0), ("mfa_enabled=false", 1));
    }

    [Fact]
    public async Task A_filter_total_is_reused_while_the_directory_version_stands()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var team = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var user = await app.CreateUserIdAsync(tenant, "reused@example.com");
        Assert.Equal(0, await TotalAsync(admin, tenant, "mfa_enabled=true"));
        Assert.Equal(0, await TotalAsync(admin, tenant, $"group_id={team}"));

        // Changed with the version put back as it was: only a cached total can still say 0. (No writer can do this;
        // it shows the count is not taken again while the version stands.)
        var version = await VersionAsync(tenant);
        await ExecAsync($"UPDATE users SET mfa_enabled = {true} WHERE id = {user}");
        await ExecAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({team}, {user}, {tenant}, {DateTime.UtcNow})");
        Assert.True(await VersionAsync(tenant) > version);
        await ExecAsync($"UPDATE tenant_directory_versions SET version = {version} WHERE tenant_id = {tenant}");
        Assert.Equal(0, await TotalAsync(admin, tenant, "mfa_enabled=true"));
        Assert.Equal(0, await TotalAsync(admin, tenant, $"group_id={team}"));

        await ExecAsync($"UPDATE tenant_directory_versions SET version = version + 1 WHERE tenant_id = {tenant}");
        Assert.Equal(1, await TotalAsync(admin, tenant, "mfa_enabled=true"));
        Assert.Equal(1, await TotalAsync(admin, tenant, $"group_id={team}"));
    }

    [Fact]
    public async Task Sign_in_bookkeeping_leaves_the_version_alone_and_a_membership_bumps_only_its_tenant()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var team = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var user = await app.CreateUserIdAsync(tenant, "quiet@example.com");
        var before = await VersionAsync(tenant);
        var otherBefore = await VersionAsync(other);

        await ExecAsync($"UPDATE users SET last_login_at = {DateTime.UtcNow}, failed_login_attempts = 2, mfa_enabled = {false}, ou_id = NULL WHERE id = {user}");
        Assert.Equal(before, await VersionAsync(tenant));

        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{team}/members", new { user_ids = new[] { user } })).ShouldBeAsync(200);
        Assert.True(await VersionAsync(tenant) > before);
        Assert.Equal(otherBefore, await VersionAsync(other));
    }

    [Fact]
    public async Task Deep_pages_of_a_filter_start_from_anchors_and_equal_the_full_walk_after_changes()
    {
        var tenant = await app.CreateTenantAsync();
        var ou = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Division" });
        var start = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);

        // 2,400 users, two in three with MFA and in the OU; every fifth shares its creation instant with the one
        // before, and ids are random, so ties are decided by id.
        var rows = Enumerable.Range(0, 2400).Select(i => (Id: Guid.NewGuid().ToString(), Mfa: i % 3 != 0, InOu: i % 3 != 1,
            CreatedAt: start.AddSeconds(i - (i % 5 == 0 ? 1 : 0)))).ToList();
        foreach (var batch in rows.Chunk(400))
        {
            await app.DbAsync(async db =>
            {
                await using var tx = await db.Database.BeginTransactionAsync();
                foreach (var r in batch)
                {
                    await db.Database.ExecuteSqlAsync($"""
                        INSERT INTO users (id, tenant_id, email, email_normalized, locale, timezone, email_verified, status, identity_source,
                            mfa_enabled, require_password_change, failed_login_attempts, search_text, created_at, version, ou_id)
                        VALUES ({r.Id}, {tenant}, {r.Id + "@example.com"}, {r.Id + "@example.com"}, 'en', 'UTC', {false}, 'ACTIVE', 'LOCAL',
                            {r.Mfa}, {false}, 0, {r.Id}, {r.CreatedAt}, 1, {(r.InOu ? ou : null)})
                        """);
                }

                await tx.CommitAsync();
            });
        }

        using var admin = await app.AdminAsync();
        var anchors = app.Host.Services.GetRequiredService<ScaiKey.Api.Users.PageAnchors>();
        var held = anchors.Count;
        await AssertPagesAreTheWalkAsync(admin, tenant, ou);
        Assert.True(anchors.Count > held, "the filtered deep pages were not read from anchors");

        // Writers behind this instance's back: MFA enrolment and an OU move deep in the order, an insert in the middle.
        await ExecAsync($"UPDATE users SET mfa_enabled = {false} WHERE id = {rows[300].Id}");
        await ExecAsync($"UPDATE users SET ou_id = NULL WHERE id = {rows[900].Id}");
        await ExecAsync($"UPDATE users SET ou_id = {ou}, mfa_enabled = {true} WHERE id = {rows[1].Id}");
        await AssertPagesAreTheWalkAsync(admin, tenant, ou);
    }

    /// <summary>
    /// A filtered list keeps anchors every PageAnchors.FilteredStride (100) matches, not every 1,000: its walk reads
    /// rows of the whole directory, so page 50 (offset 980) of a small share walked tens of thousands of rows from the
    /// start on every request. Without an anchor below 1,000 the count of anchors held stays as it was.
    /// </summary>
    [Fact]
    public async Task Page_50_of_a_filter_starts_from_an_anchor_100_matches_back()
    {
        var tenant = await app.CreateTenantAsync();
        var start = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        await app.DbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            for (var i = 0; i < 1100; i++)
            {
                var id = Guid.NewGuid().ToString();
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO users (id, tenant_id, email, email_normalized, locale, timezone, email_verified, status, identity_source,
                        mfa_enabled, require_password_change, failed_login_attempts, search_text, created_at, version)
                    VALUES ({id}, {tenant}, {id + "@example.com"}, {id + "@example.com"}, 'en', 'UTC', {false}, 'ACTIVE', 'LOCAL',
                        {true}, {false}, 0, {id}, {start.AddSeconds(i)}, 1)
                    """);
            }

            await tx.CommitAsync();
        });
        using var admin = await app.AdminAsync();
        var anchors = app.Host.Services.GetRequiredService<ScaiKey.Api.Users.PageAnchors>();
        var held = anchors.Count;

        var page = await ListAsync(admin, tenant, "mfa_enabled=true&page=50&per_page=20");
        Assert.True(anchors.Count > held, "page 50 of a filtered list was walked from the start");
        var walk = await app.DbAsync(db => db.Users.Where(u => u.TenantId == tenant && u.MfaEnabled)
            .OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id).Select(u => u.Id).Skip(980).Take(20).ToListAsync());
        Assert.Equal(walk, IdsOf(page));
    }

    /// <summary>Pages around and past the anchors, both orders, of each filter, against one ORDER BY of the matching live users.</summary>
    private async Task AssertPagesAreTheWalkAsync(HttpClient admin, string tenant, string ou)
    {
        foreach (var filter in new[] { "mfa_enabled=true", $"ou_id={ou}", $"ou_id={ou}&mfa_enabled=true" })
        {
            foreach (var descending in new[] { true, false })
            {
                var walk = await app.DbAsync(db =>
                {
                    var live = db.Users.Where(u => u.TenantId == tenant && u.DeletedAt == null);
                    live = filter.Contains("mfa", StringComparison.Ordinal) ? live.Where(u => u.MfaEnabled) : live;
                    live = filter.Contains("ou_id", StringComparison.Ordinal) ? live.Where(u => u.OuId == ou) : live;
                    return (descending ? live.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id) : live.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id))
                        .Select(u => u.Id).ToListAsync();
                });
                foreach (var (page, perPage) in new[] { (1, 20), (50, 20), (51, 20), (52, 20), (75, 20), (10, 100), (11, 100), (16, 100) })
                {
                    var query = $"{filter}&sort_order={(descending ? "desc" : "asc")}&page={page}&per_page={perPage}";
                    var json = await ListAsync(admin, tenant, query);
                    Assert.True(walk.Skip((page - 1) * perPage).Take(perPage).SequenceEqual(IdsOf(json)), $"{query}: {json.ToJsonString()[..Math.Min(300, json.ToJsonString().Length)]}");
                    Assert.Equal(walk.Count, json["pagination"]!["total_items"]!.GetValue<int>());
                }
            }
        }
    }
}
