using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// What makes user lists fast at a million users must not change what they say: the trigger-maintained
/// per-tenant counters behind total_items, the trigram search index, and the ids-first deep pages.
/// </summary>
public sealed class UserListScaleTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static readonly string[] SortFields = ["created_at", "updated_at", "email", "display_name", "last_name", "last_login_at", "status"];

    private static async Task<JsonNode> ListAsync(HttpClient client, string tenant, string query = "") =>
        await (await client.GetAsync($"/api/v1/tenants/{tenant}/users{(query.Length == 0 ? "" : "?" + query)}")).ReadJsonAsync(200);

    private static List<string> IdsOf(JsonNode page) => page["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();

    private static int TotalOf(JsonNode page) => page["pagination"]!["total_items"]!.GetValue<int>();

    private static string Search(string term) => "search=" + Uri.EscapeDataString(term);

    /// <summary>The tenant's counters agree with a COUNT of its live users, status by status.</summary>
    private Task AssertCountersMatchAsync(string tenant) => app.DbAsync(async db =>
    {
        var counted = await db.Users.Where(u => u.TenantId == tenant && u.DeletedAt == null)
            .GroupBy(u => u.Status).Select(g => new { Status = g.Key, Count = (long)g.Count() }).ToListAsync();
        var kept = await db.TenantUserCounts.Where(c => c.TenantId == tenant && c.LiveUsers != 0)
            .Select(c => new { c.Status, Count = c.LiveUsers }).ToListAsync();
        Assert.Equal(counted.OrderBy(c => c.Status), kept.OrderBy(c => c.Status));
    });

    /// <summary>Plain multi-row INSERTs, the way a bulk importer writes: no EF, no application code.</summary>
    private Task InsertRawAsync(params (string Id, string Tenant, string Email, string? DisplayName, string Status, DateTime CreatedAt, DateTime? DeletedAt)[] rows) =>
        app.DbAsync(async db =>
        {
            var values = new List<string>();
            var parameters = new List<object?>();
            foreach (var row in rows)
            {
                var p = parameters.Count;
                values.Add($"({{{p}}}, {{{p + 1}}}, {{{p + 2}}}, {{{p + 2}}}, {{{p + 3}}}, 'en', 'UTC', {{{p + 4}}}, {{{p + 5}}}, 'LOCAL', "
                    + $"{{{p + 4}}}, {{{p + 4}}}, 0, {{{p + 6}}}, {{{p + 7}}}, {{{p + 8}}}, 1)");
                parameters.AddRange([row.Id, row.Tenant, row.Email.ToLowerInvariant(), row.DisplayName, false, row.Status,
                    string.Join('\n', new[] { row.Email, row.DisplayName }.OfType<string>()).ToLowerInvariant(), row.CreatedAt,
                    row.DeletedAt]);
            }

            // Only placeholders are concatenated; every value is a parameter.
            var sql = "INSERT INTO users (id, tenant_id, email, email_normalized, display_name, locale, timezone, email_verified, status, "
                + "identity_source, mfa_enabled, require_password_change, failed_login_attempts, search_text, created_at, deleted_at, version) "
                + "VALUES " + string.Join(", ", values);
            await db.Database.ExecuteSqlRawAsync(sql, parameters!);
        });

    // ---- exact totals ----

    [Fact]
    public async Task Total_items_follows_creates_status_changes_and_soft_deletes()
    {
        var tenant = await app.CreateTenantAsync();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await app.CreateUserAsync(tenant, new { email = $"count{i}@example.com" }))["id"]!.GetValue<string>());
        }

        using var admin = await app.AdminAsync();
        Assert.Equal(4, TotalOf(await ListAsync(admin, tenant)));
        Assert.Equal(4, TotalOf(await ListAsync(admin, tenant, "status=PENDING_EMAIL_VERIFICATION")));

        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{tenant}/users/{ids[0]}/status", new { status = "DISABLED" })).ShouldBeAsync(200);
        Assert.Equal(4, TotalOf(await ListAsync(admin, tenant)));
        Assert.Equal(3, TotalOf(await ListAsync(admin, tenant, "status=PENDING_EMAIL_VERIFICATION")));
        Assert.Equal(1, TotalOf(await ListAsync(admin, tenant, "status=DISABLED")));
        Assert.Equal(0, TotalOf(await ListAsync(admin, tenant, "status=ACTIVE")));

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{ids[0]}?confirm_email=count0@example.com")).ShouldBeAsync(204);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{ids[1]}?confirm_email=count1@example.com")).ShouldBeAsync(204);
        var list = await ListAsync(admin, tenant);
        Assert.Equal(2, TotalOf(list));
        Assert.Equal(new[] { ids[2], ids[3] }.Order(), IdsOf(list).Order());
        Assert.Equal(0, TotalOf(await ListAsync(admin, tenant, "status=DISABLED")));

        // A new user may take a deleted user's email; both are counted right.
        await app.CreateUserAsync(tenant, new { email = "count0@example.com" });
        Assert.Equal(3, TotalOf(await ListAsync(admin, tenant)));
        await AssertCountersMatchAsync(tenant);
    }

    [Fact]
    public async Task Another_tenants_users_never_count()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        await app.CreateUserAsync(tenant, new { email = "mine@example.com" });
        for (var i = 0; i < 3; i++)
        {
            await app.CreateUserAsync(other, new { email = $"theirs{i}@example.com" });
        }

        using var admin = await app.AdminAsync();
        Assert.Equal(1, TotalOf(await ListAsync(admin, tenant)));
        Assert.Equal(3, TotalOf(await ListAsync(admin, other)));
        Assert.Equal(0, TotalOf(await ListAsync(admin, tenant, Search("theirs"))));
        Assert.Equal(1, TotalOf(await (await admin.GetAsync($"/api/v1/admin/users/?tenant_id={tenant}")).ReadJsonAsync(200)));
        Assert.Equal(3, TotalOf(await (await admin.GetAsync($"/api/v1/admin/users/?tenant_id={other}&status=PENDING_EMAIL_VERIFICATION")).ReadJsonAsync(200)));
        await AssertCountersMatchAsync(tenant);
        await AssertCountersMatchAsync(other);
    }

    [Fact]
    public async Task Admin_total_across_tenants_equals_the_live_users_in_scope()
    {
        var tenant = await app.CreateTenantAsync();
        await app.CreateUserAsync(tenant, new { email = "everywhere@example.com" });
        using var admin = await app.AdminAsync();

        var listed = TotalOf(await (await admin.GetAsync("/api/v1/admin/users/?per_page=1")).ReadJsonAsync(200));
        var live = await app.DbAsync(db => db.Users.CountAsync(u => u.DeletedAt == null));
        Assert.Equal(live, listed);
        var active = await app.DbAsync(db => db.Users.CountAsync(u => u.DeletedAt == null && u.Status == UserStatus.Active));
        Assert.Equal(active, TotalOf(await (await admin.GetAsync("/api/v1/admin/users/?status=ACTIVE&per_page=1")).ReadJsonAsync(200)));
    }

    [Fact]
    public async Task Users_written_by_raw_sql_are_counted_and_searchable()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var at = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

        // One statement, two tenants, one row already soft-deleted: PostgreSQL's statement trigger groups them.
        await InsertRawAsync(
            ("raw-0001", tenant, "Raw.One@Example.com", "Imported Person", "ACTIVE", at, null),
            ("raw-0002", tenant, "raw.two@example.com", "Imported Other", "DISABLED", at.AddSeconds(1), null),
            ("raw-0003", tenant, "raw.gone@example.com", "Imported Gone", "ACTIVE", at.AddSeconds(2), at),
            ("raw-0004", other, "raw.else@example.com", "Imported Elsewhere", "ACTIVE", at, null));
        await app.CreateUserAsync(tenant, new { email = "api@example.com" });
        using var admin = await app.AdminAsync();

        Assert.Equal(3, TotalOf(await ListAsync(admin, tenant)));
        Assert.Equal(1, TotalOf(await ListAsync(admin, other)));
        Assert.Equal(1, TotalOf(await ListAsync(admin, tenant, "status=ACTIVE")));
        Assert.Equal(new[] { "raw-0001", "raw-0002" }, IdsOf(await ListAsync(admin, tenant, Search("IMPORTED") + "&sort_order=asc")));
        Assert.Equal(["raw-0001"], IdsOf(await ListAsync(admin, tenant, Search("raw.one@"))));
        Assert.Empty(IdsOf(await ListAsync(admin, tenant, Search("imported gone"))));

        // Raw soft delete, restore, hard delete and a status change: the counters follow every one.
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE users SET deleted_at = {at} WHERE id = {"raw-0001"}"));
        Assert.Equal(2, TotalOf(await ListAsync(admin, tenant)));
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE users SET deleted_at = NULL WHERE id = {"raw-0003"}"));
        Assert.Equal(3, TotalOf(await ListAsync(admin, tenant)));
        Assert.Equal(["raw-0003"], IdsOf(await ListAsync(admin, tenant, Search("imported gone"))));
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE users SET status = 'LOCKED' WHERE tenant_id = {tenant}"));
        Assert.Equal(3, TotalOf(await ListAsync(admin, tenant, "status=LOCKED")));
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"DELETE FROM users WHERE id IN ({"raw-0002"}, {"raw-0004"})"));
        Assert.Equal(2, TotalOf(await ListAsync(admin, tenant)));
        Assert.Equal(0, TotalOf(await ListAsync(admin, other)));
        Assert.Empty(IdsOf(await ListAsync(admin, tenant, Search("raw.two"))));

        // A raw rename is searchable under the new text only.
        await app.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE users SET search_text = {"renamed\nperson"} WHERE id = {"raw-0003"}"));
        Assert.Empty(IdsOf(await ListAsync(admin, tenant, Search("imported gone"))));
        Assert.Equal(["raw-0003"], IdsOf(await ListAsync(admin, tenant, Search("renamed"))));
        await AssertCountersMatchAsync(tenant);
        await AssertCountersMatchAsync(other);
    }

    // ---- search through the index ----

    [Fact]
    public async Task Search_through_the_index_matches_exactly_what_substring_matching_matches()
    {
        var tenant = await app.CreateTenantAsync();
        var people = new (string Email, string? Username, string? First, string? Last, string? Display)[]
        {
            ("zoe@example.com", "ZoeA", "Zoë", "Ångström", "Zoë Ångström"),
            ("mueller@example.com", null, "Jürgen", "Müller", null),
            ("lukasz@example.com", "ŁUKASZ", "Łukasz", "Żółć", null),
            ("socrates@example.com", null, "Σωκράτης", null, "ΣΩΚΡΆΤΗΣ"),
            ("yamada@example.com", null, "太郎", "山田", "山田太郎"),
            ("pct@example.com", null, null, null, "100% Sure"),
            ("hundred@example.com", null, null, null, "100 Percent"),
            ("under@example.com", "a_b", null, null, null),
            ("axb@example.com", "axb", null, null, null),
            ("quote@example.com", null, "Say \"Hi\"", "O'Brien", null),
            ("slash@example.com", null, null, "Back\\Slash", null),
            ("star@example.com", null, "Star*", "Caret^", "(Paren) AND OR NOT NEAR"),
        };
        var ids = new List<string>();
        foreach (var p in people)
        {
            ids.Add((await app.CreateUserAsync(tenant, new
            {
                email = p.Email, username = p.Username, first_name = p.First, last_name = p.Last, display_name = p.Display,
            }))["id"]!.GetValue<string>());
        }

        // The exact meaning: the trimmed, lower-cased term is a substring of one of the lower-cased fields (or,
        // as search_text joins them with newlines, of that joined text).
        var texts = people.Select(p => string.Join('\n', new[] { p.Email, p.Username, p.First, p.Last, p.Display }
            .Where(s => !string.IsNullOrEmpty(s))).ToLowerInvariant()).ToList();
        using var admin = await app.AdminAsync();
        string[] terms =
        [
            "z", "ZO", "zoë", "ÅNGSTRÖM", "ngstr", "ü", "MÜLLER", "łukasz", "żółć", "σωκράτης", "ΣΩΚ", "山", "山田", "田太郎",
            "%", "100%", "%s", "_", "a_b", "a_", "\"", "\"hi\"", "say \"hi", "'", "o'brien", "\\", "back\\sl", "*", "star*",
            "^", "caret^", "(paren)", "and or not", "near", "  AXB  ", "@EXAMPLE.COM", "e.c", "no-such-person",
        ];
        foreach (var term in terms)
        {
            var lowered = term.Trim().ToLowerInvariant();
            var expected = ids.Where((_, i) => texts[i].Contains(lowered, StringComparison.Ordinal)).Order().ToList();
            var json = await ListAsync(admin, tenant, Search(term) + "&per_page=100");
            Assert.True(expected.SequenceEqual(IdsOf(json).Order()), $"search '{term}': expected {expected.Count}, got {IdsOf(json).Count}");
            Assert.Equal(expected.Count, TotalOf(json));
        }

        // A term nearly everyone matches, one per page: the list walks the created_at index instead of the
        // trigram index (ScanInOrderAsync); the answer is the same.
        for (var page = 1; page <= 3; page++)
        {
            var json = await ListAsync(admin, tenant, Search("@EXAMPLE.COM") + $"&per_page=1&page={page}");
            Assert.Equal([ids[^page]], IdsOf(json));
            Assert.Equal(ids.Count, TotalOf(json));
        }
    }

    [Fact]
    public async Task Admin_search_across_tenants_uses_the_same_semantics()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var mine = (await app.CreateUserAsync(tenant, new { email = "xq_admin_search@example.com" }))["id"]!.GetValue<string>();
        var theirs = (await app.CreateUserAsync(other, new { email = "XQ_admin_search2@example.com" }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();

        var json = await (await admin.GetAsync("/api/v1/admin/users/?" + Search("XQ_ADMIN_SEARCH"))).ReadJsonAsync(200);
        Assert.Equal(new[] { mine, theirs }.Order(), IdsOf(json).Order());
        Assert.Equal(2, TotalOf(json));
        Assert.Equal([mine], IdsOf(await (await admin.GetAsync($"/api/v1/admin/users/?tenant_id={tenant}&" + Search("xq_admin"))).ReadJsonAsync(200)));
    }

    // ---- deep pages ----

    [Fact]
    public async Task Pages_of_every_sort_are_stable_disjoint_and_complete_even_with_tied_keys()
    {
        var tenant = await app.CreateTenantAsync();
        var at = new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);

        // 23 users sharing a handful of creation instants, statuses and names, so ties are decided by id alone.
        var rows = Enumerable.Range(0, 23).Select(i => (
            Id: $"deep-{(i * 7) % 23:D2}", Tenant: tenant, Email: $"deep{i:D2}@example.com",
            DisplayName: i % 4 == 0 ? null : $"Name {i % 3}", Status: i % 2 == 0 ? "ACTIVE" : "DISABLED",
            CreatedAt: at.AddSeconds(i % 3), DeletedAt: (DateTime?)null)).ToArray();
        await InsertRawAsync(rows);
        await InsertRawAsync(("deep-gone", tenant, "deep-gone@example.com", "Name 1", "ACTIVE", at, at));
        using var admin = await app.AdminAsync();

        foreach (var sortBy in SortFields)
        {
            foreach (var order in new[] { "asc", "desc" })
            {
                var whole = IdsOf(await ListAsync(admin, tenant, $"sort_by={sortBy}&sort_order={order}&per_page=100"));
                Assert.Equal(23, whole.Count);
                var paged = new List<string>();
                for (var page = 1; page <= 5; page++)
                {
                    var json = await ListAsync(admin, tenant, $"sort_by={sortBy}&sort_order={order}&per_page=5&page={page}");
                    Assert.Equal(23, TotalOf(json));
                    paged.AddRange(IdsOf(json));
                }

                Assert.Equal(whole, paged);
                Assert.Equal(23, paged.Distinct().Count());
                Assert.Equal(whole, IdsOf(await ListAsync(admin, tenant, $"sort_by={sortBy}&sort_order={order}&per_page=100")));
            }
        }

        // Within one creation instant the default order is by id, descending.
        var firstInstant = IdsOf(await ListAsync(admin, tenant, "per_page=100")).Where(id => rows.Single(r => r.Id == id).CreatedAt == at.AddSeconds(2)).ToList();
        Assert.Equal(firstInstant.OrderDescending(StringComparer.Ordinal), firstInstant);
    }

    // ---- deep pages from anchors ----

    [Fact]
    public async Task Deep_pages_from_anchors_equal_the_full_walk_before_and_after_any_writer_changes_the_tenant()
    {
        var tenant = await app.CreateTenantAsync();
        var start = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);

        // 2,600 users (anchors every 1,000); every fifth shares its creation instant with the one before, and ids are
        // random, so ties are decided by id.
        var rows = Enumerable.Range(0, 2600).Select(i => (
            Id: Guid.NewGuid().ToString(), Tenant: tenant, Email: $"anchor{i}@example.com", DisplayName: (string?)null,
            Status: i % 3 == 0 ? "DISABLED" : "ACTIVE", CreatedAt: start.AddSeconds(i - (i % 5 == 0 ? 1 : 0)), DeletedAt: (DateTime?)null)).ToList();
        foreach (var batch in rows.Chunk(400))
        {
            await InsertRawAsync(batch);
        }

        using var admin = await app.AdminAsync();
        var anchors = app.Host.Services.GetRequiredService<ScaiKey.Api.Users.PageAnchors>().Count;
        await AssertPagesAreTheWalkAsync(admin, tenant);
        Assert.True(app.Host.Services.GetRequiredService<ScaiKey.Api.Users.PageAnchors>().Count > anchors, "the deep pages were not read from anchors");

        // Writers that never touch this instance's caches: raw SQL inserts (newest, oldest and in the middle), a soft
        // delete and a status change deep in the order; then the API's own create and delete.
        await InsertRawAsync(
            (Guid.NewGuid().ToString(), tenant, "anchor-new@example.com", null, "ACTIVE", start.AddDays(1), null),
            (Guid.NewGuid().ToString(), tenant, "anchor-old@example.com", null, "DISABLED", start.AddDays(-1), null),
            (Guid.NewGuid().ToString(), tenant, "anchor-mid@example.com", null, "ACTIVE", start.AddSeconds(1500), null));
        var deep = rows[1200].Id;
        var disabled = rows[700].Id;
        await app.DbAsync(async db =>
        {
            await db.Database.ExecuteSqlRawAsync("UPDATE users SET deleted_at = {0} WHERE id = {1}", DateTime.UtcNow, deep);
            await db.Database.ExecuteSqlRawAsync("UPDATE users SET status = 'ACTIVE' WHERE id = {0}", disabled);
        });
        await AssertPagesAreTheWalkAsync(admin, tenant);

        var created = await app.CreateUserIdAsync(tenant, "anchor-api@example.com");
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{rows[2500].Id}?confirm_email=anchor2500@example.com")).ShouldBeAsync(204);
        await AssertPagesAreTheWalkAsync(admin, tenant);
        Assert.Contains(created, IdsOf(await ListAsync(admin, tenant, "per_page=1")));
    }

    /// <summary>Pages around and past every anchor, both orders, with and without a status filter, against one ORDER BY of all live users.</summary>
    private async Task AssertPagesAreTheWalkAsync(HttpClient admin, string tenant)
    {
        foreach (var status in new string?[] { null, "DISABLED" })
        {
            foreach (var descending in new[] { true, false })
            {
                UserStatus? wanted = status is null ? null : Enum.Parse<UserStatus>(status, ignoreCase: true);
                var walk = await app.DbAsync(db =>
                {
                    var live = db.Users.Where(u => u.TenantId == tenant && u.DeletedAt == null);
                    if (wanted is not null)
                    {
                        live = live.Where(u => u.Status == wanted);
                    }

                    return (descending ? live.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id) : live.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id))
                        .Select(u => u.Id).ToListAsync();
                });
                foreach (var (page, perPage) in new[] { (1, 20), (49, 20), (50, 20), (51, 20), (52, 20), (100, 20), (101, 20), (130, 20), (131, 20), (10, 100), (11, 100), (26, 100), (27, 100) })
                {
                    var query = $"sort_order={(descending ? "desc" : "asc")}&page={page}&per_page={perPage}" + (status is null ? "" : "&status=" + status);
                    var json = await ListAsync(admin, tenant, query);
                    Assert.True(walk.Skip((page - 1) * perPage).Take(perPage).SequenceEqual(IdsOf(json)), $"{query}: {json.ToJsonString()[..Math.Min(300, json.ToJsonString().Length)]}");
                    Assert.Equal(walk.Count, TotalOf(json));
                }
            }
        }
    }

    // ---- the machinery is in place ----

    [Fact]
    public async Task Counter_triggers_and_search_index_exist()
    {
        var names = await app.DbAsync(db => TestDatabase.IsPostgres
            ? db.Database.SqlQueryRaw<string>(
                "SELECT tgname::text AS \"Value\" FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal "
                + "UNION ALL SELECT indexname::text FROM pg_indexes WHERE tablename = 'users'").ToListAsync()
            : db.Database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM sqlite_master WHERE type IN ('trigger', 'table')").ToListAsync());
        string[] expected = TestDatabase.IsPostgres
            ? ["users_count_insert", "users_count_delete", "users_count_update", "users_count_truncate", "ix_users_search_text_trgm"]
            : ["users_count_insert", "users_count_delete", "users_count_update", "users_search_insert", "users_search_delete", "users_search_update", "user_search"];
        Assert.All(expected, name => Assert.Contains(name, names));

        if (TestDatabase.IsPostgres)
        {
            // A search walking the default order reads only this index (migration SearchWalkIndex).
            var definition = await app.DbAsync(db => db.Database.SqlQueryRaw<string>(
                "SELECT indexdef AS \"Value\" FROM pg_indexes WHERE indexname = 'ix_users_tenant_id_created_at_id'").SingleAsync());
            Assert.Contains("INCLUDE (search_text)", definition, StringComparison.Ordinal);
        }
    }
}
