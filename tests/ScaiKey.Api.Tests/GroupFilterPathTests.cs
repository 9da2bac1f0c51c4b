using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Tests;

/// <summary>
/// A group above <see cref="UserListQuery.MemberListLimit"/> members is paged either by walking the sort's index and
/// testing membership (shallow pages of a common filter) or by reading the members and sorting them (deep pages, or a
/// combination that leaves few members), chosen from the exact counts; an empty result is answered from its total
/// without a page query (issue 18). Whichever path a page takes, it must be exactly the ORDER BY of the matches:
/// ties by id, names case-insensitive with the nameless last, in both orders, and after writes.
/// </summary>
public sealed class GroupFilterPathTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const int Members = UserListQuery.MemberListLimit + 50;
    private const int Others = 2000;

    private static async Task<JsonNode> ListAsync(HttpClient admin, string tenant, string query) =>
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?{query}")).ReadJsonAsync(200);

    private static List<string> IdsOf(JsonNode page) => page["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Pages_of_a_large_group_walked_or_read_by_member_equal_the_full_order_by()
    {
        var tenant = await app.CreateTenantAsync();
        var team = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var start = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var prefix = tenant[..24]; // ids are at most 36 characters

        // Members + Others users in one statement: creation instants shared by runs of seven (ties by id), last names in
        // mixed case with every eleventh missing, a third with MFA; the first Members of them in the team.
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"""
            WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {Members + Others - 1})
            INSERT INTO users (id, tenant_id, email, email_normalized, locale, timezone, email_verified, status, identity_source,
                mfa_enabled, require_password_change, failed_login_attempts, search_text, created_at, version, last_name)
            SELECT {prefix} || '-u' || n, {tenant}, 'gp' || n || '@example.com', 'gp' || n || '@example.com', 'en', 'UTC', {false},
                'ACTIVE', 'LOCAL', (n % 3 = 0), {false}, 0, 'gp' || n, {start}, 1,
                CASE WHEN n % 11 = 0 THEN NULL WHEN n % 2 = 0 THEN 'name' || (n % 5) ELSE 'NAME' || (n % 5) END
            FROM seq
            """));
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"""
            WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {Members - 1})
            INSERT INTO group_members (group_id, user_id, tenant_id, created_at)
            SELECT {team}, {prefix} || '-u' || n, {tenant}, {start} FROM seq
            """));

        using var admin = await app.AdminAsync();
        await AssertPagesAsync(admin, tenant, team);

        // Writes: a member soft-deleted through the API, another leaves the team, a third enrols MFA behind the API's back.
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{prefix}-u3?confirm_email=gp3@example.com")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{team}/members/{prefix}-u6")).ShouldBeAsync(204);
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE users SET mfa_enabled = {true} WHERE id = {prefix + "-u7"}"));
        await AssertPagesAsync(admin, tenant, team);

        // No match at all (nobody is locked), and a page past the end of a filter with matches (a third of the members with
        // MFA, 3,350, one more enrolled, the deleted one and the one who left had it): empty, exact totals.
        var none = await ListAsync(admin, tenant, $"group_id={team}&status=LOCKED&sort_by=last_name");
        Assert.Empty(IdsOf(none));
        Assert.Equal(0, none["pagination"]!["total_items"]!.GetValue<int>());
        var past = await ListAsync(admin, tenant, $"group_id={team}&mfa_enabled=true&page=400&per_page=100");
        Assert.Empty(IdsOf(past));
        Assert.Equal(3349, past["pagination"]!["total_items"]!.GetValue<int>());
    }

    /// <summary>
    /// Shallow pages (walked: (offset + per_page) * live / matches is below the members) and deep ones (read by member),
    /// of the group alone and with MFA, for the default and the name sort in both orders, against one ORDER BY.
    /// </summary>
    private async Task AssertPagesAsync(HttpClient admin, string tenant, string team)
    {
        foreach (var mfa in new bool?[] { null, true })
        {
            foreach (var sortBy in new[] { "created_at", "last_name" })
            {
                foreach (var descending in new[] { false, true })
                {
                    var expected = await app.DbAsync(db =>
                    {
                        var live = db.Users.Where(u => u.TenantId == tenant && u.DeletedAt == null
                            && db.GroupMembers.Any(m => m.GroupId == team && m.UserId == u.Id));
                        live = mfa is { } m ? live.Where(u => u.MfaEnabled == m) : live;
                        return UserReads.Sort(live, sortBy, descending).Select(u => u.Id).ToListAsync();
                    });
                    foreach (var (page, perPage) in new[] { (1, 20), (2, 100), (33, 100), (100, 100), (101, 100) })
                    {
                        var query = $"group_id={team}{(mfa is null ? "" : "&mfa_enabled=true")}&sort_by={sortBy}"
                            + $"&sort_order={(descending ? "desc" : "asc")}&page={page}&per_page={perPage}";
                        var json = await ListAsync(admin, tenant, query);
                        var want = expected.Skip((page - 1) * perPage).Take(perPage).ToList();
                        Assert.True(want.SequenceEqual(IdsOf(json)), $"{query}: want {string.Join(',', want.Take(3))}…, got {json.ToJsonString()[..Math.Min(300, json.ToJsonString().Length)]}");
                        Assert.Equal(expected.Count, json["pagination"]!["total_items"]!.GetValue<int>());
                    }
                }
            }
        }
    }
}
