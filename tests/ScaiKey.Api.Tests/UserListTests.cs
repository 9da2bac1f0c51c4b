using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>GET /api/v1/tenants/{t}/users and GET /api/v1/admin/users/: envelope, paging, search, sorting, filters, errors.</summary>
public sealed class UserListTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static readonly string[] ListItemFields =
        ["id", "email", "display_name", "status", "ou_path", "identity_source", "mfa_enabled", "last_login_at"];

    private static async Task<JsonNode> ListAsync(HttpClient client, string tenant, string query = "") =>
        await (await client.GetAsync($"/api/v1/tenants/{tenant}/users{(query.Length == 0 ? "" : "?" + query)}")).ReadJsonAsync(200);

    private static List<string> IdsOf(JsonNode page) => page["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();

    private static async Task<List<string>> ErrorsAsync(HttpClient client, string url) => await (await client.GetAsync(url)).ReadValidationErrorsAsync();

    private async Task<List<string>> CreateUsersAsync(string tenant, int count, Func<int, object>? body = null)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var user = await app.CreateUserAsync(tenant, body?.Invoke(i) ?? new { email = $"user{i:D2}@example.com" });
            ids.Add(user["id"]!.GetValue<string>());
        }

        return ids;
    }

    private Task UpdateStoredAsync(string userId, Action<User> change) => app.DbAsync(async db =>
    {
        var user = await db.Users.SingleAsync(u => u.Id == userId);
        change(user);
        await db.SaveChangesAsync();
    });

    // ---- envelope and defaults ----

    [Fact]
    public async Task List_returns_the_paginated_envelope_with_defaults_and_newest_first()
    {
        var tenant = await app.CreateTenantAsync();
        var ids = await CreateUsersAsync(tenant, 3, i => new { email = $"env{i}@example.com", display_name = $"Env {i}" });
        using var admin = await app.AdminAsync();

        var json = await ListAsync(admin, tenant);

        var pagination = json["pagination"]!;
        Assert.Equal(1, pagination["page"]!.GetValue<int>());
        Assert.Equal(20, pagination["per_page"]!.GetValue<int>());
        Assert.Equal(3, pagination["total_items"]!.GetValue<int>());
        Assert.Equal(1, pagination["total_pages"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(json["meta"]!["request_id"]!.GetValue<string>()));
        Assert.True(DateTime.TryParse(json["meta"]!["timestamp"]!.GetValue<string>(), out _));

        // Default sort: created_at desc.
        Assert.Equal(Enumerable.Reverse(ids).ToList(), IdsOf(json));

        var item = json["data"]!.AsArray()[2]!.AsObject();
        Assert.Equal(ListItemFields.Order(), item.Select(p => p.Key).Order());
        Assert.Equal(ids[0], item["id"]!.GetValue<string>());
        Assert.Equal("env0@example.com", item["email"]!.GetValue<string>());
        Assert.Equal("Env 0", item["display_name"]!.GetValue<string>());
        Assert.Equal("PENDING_EMAIL_VERIFICATION", item["status"]!.GetValue<string>());
        Assert.Null(item["ou_path"]);
        Assert.Equal("LOCAL", item["identity_source"]!.GetValue<string>());
        Assert.False(item["mfa_enabled"]!.GetValue<bool>());
        Assert.Null(item["last_login_at"]);
    }

    [Fact]
    public async Task Empty_tenant_lists_no_users_with_zero_totals()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var json = await ListAsync(admin, tenant);
        Assert.Empty(json["data"]!.AsArray());
        Assert.Equal(0, json["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Equal(0, json["pagination"]!["total_pages"]!.GetValue<int>());
    }

    // ---- pagination ----

    [Theory]
    [InlineData("created_at", "desc")]
    [InlineData("created_at", "asc")]
    [InlineData("status", "asc")]
    [InlineData("status", "desc")]
    [InlineData("display_name", "asc")]
    [InlineData("display_name", "desc")]
    [InlineData("last_login_at", "desc")]
    public async Task Twenty_five_users_split_into_three_disjoint_pages_that_cover_everyone(string sortBy, string sortOrder)
    {
        var tenant = await app.CreateTenantAsync();

        // Many ties: every user has the same status and last_login_at (null), only five display names (and some null).
        var ids = await CreateUsersAsync(tenant, 25, i => new
        {
            email = $"page{i:D2}@example.com",
            display_name = i % 6 == 5 ? null : "Name " + (char)('A' + (i % 5)),
        });
        using var admin = await app.AdminAsync();

        var seen = new List<string>();
        for (var page = 1; page <= 3; page++)
        {
            var json = await ListAsync(admin, tenant, $"page={page}&per_page=10&sort_by={sortBy}&sort_order={sortOrder}");
            Assert.Equal(page, json["pagination"]!["page"]!.GetValue<int>());
            Assert.Equal(10, json["pagination"]!["per_page"]!.GetValue<int>());
            Assert.Equal(25, json["pagination"]!["total_items"]!.GetValue<int>());
            Assert.Equal(3, json["pagination"]!["total_pages"]!.GetValue<int>());
            Assert.Equal(page == 3 ? 5 : 10, json["data"]!.AsArray().Count);
            seen.AddRange(IdsOf(json));
        }

        Assert.Equal(25, seen.Distinct().Count()); // no overlap between pages
        Assert.Equal(ids.Order(), seen.Order()); // and no gap

        // The same query again gives the same order (ties broken deterministically).
        var again = new List<string>();
        for (var page = 1; page <= 3; page++)
        {
            again.AddRange(IdsOf(await ListAsync(admin, tenant, $"page={page}&per_page=10&sort_by={sortBy}&sort_order={sortOrder}")));
        }

        Assert.Equal(seen, again);

        var beyond = await ListAsync(admin, tenant, $"page=4&per_page=10&sort_by={sortBy}&sort_order={sortOrder}");
        Assert.Empty(beyond["data"]!.AsArray());
        Assert.Equal(25, beyond["pagination"]!["total_items"]!.GetValue<int>());
    }

    [Fact]
    public async Task Per_page_bounds_one_and_one_hundred_are_accepted()
    {
        var tenant = await app.CreateTenantAsync();
        await CreateUsersAsync(tenant, 3);
        using var admin = await app.AdminAsync();

        var one = await ListAsync(admin, tenant, "per_page=1&page=2");
        Assert.Single(one["data"]!.AsArray());
        Assert.Equal(3, one["pagination"]!["total_pages"]!.GetValue<int>());

        var hundred = await ListAsync(admin, tenant, "per_page=100");
        Assert.Equal(3, hundred["data"]!.AsArray().Count);
        Assert.Equal(100, hundred["pagination"]!["per_page"]!.GetValue<int>());
    }

    // ---- search ----

    [Fact]
    public async Task Search_is_a_case_insensitive_substring_match_over_email_username_and_names()
    {
        var tenant = await app.CreateTenantAsync();
        var ada = (await app.CreateUserAsync(tenant, new { email = "ada.lovelace@example.com", first_name = "Ada", last_name = "Byron" }))["id"]!.GetValue<string>();
        var grace = (await app.CreateUserAsync(tenant, new { email = "gh@example.com", username = "AmazingGrace", last_name = "Hopper" }))["id"]!.GetValue<string>();
        var alan = (await app.CreateUserAsync(tenant, new { email = "at@example.com", first_name = "Alan", last_name = "Turing", display_name = "Enigma Breaker" }))["id"]!.GetValue<string>();
        var edsger = (await app.CreateUserAsync(tenant, new { email = "ed@example.com", first_name = "Edsger", last_name = "Dijkstra" }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();

        async Task<List<string>> SearchAsync(string term)
        {
            var json = await ListAsync(admin, tenant, "search=" + Uri.EscapeDataString(term));
            Assert.Equal(json["data"]!.AsArray().Count, json["pagination"]!["total_items"]!.GetValue<int>());
            return IdsOf(json);
        }

        Assert.Equal([ada], await SearchAsync("LOVE")); // email, other case
        Assert.Equal([grace], await SearchAsync("amazinggr")); // username only
        Assert.Equal([grace], await SearchAsync("HOPPER")); // last name only
        Assert.Equal([alan], await SearchAsync("enigma")); // display name only
        Assert.Equal([edsger], await SearchAsync("EdSg")); // first name only
        Assert.Equal([ada], await SearchAsync("byr")); // last name, partial
        Assert.Equal(new[] { ada, grace, alan, edsger }.Order(), (await SearchAsync("@EXAMPLE.com")).Order());
        Assert.Empty(await SearchAsync("no-such-person"));
    }

    [Fact]
    public async Task Search_follows_a_renamed_user()
    {
        var tenant = await app.CreateTenantAsync();
        var user = (await app.CreateUserAsync(tenant, new { email = "renamed@example.com", last_name = "Dijkstra" }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();
        Assert.Equal([user], IdsOf(await ListAsync(admin, tenant, "search=dijkstra")));

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}", new { last_name = "Knuth", username = "TAOCP" })).ShouldBeAsync(200);

        Assert.Empty(IdsOf(await ListAsync(admin, tenant, "search=dijkstra")));
        Assert.Equal([user], IdsOf(await ListAsync(admin, tenant, "search=KNUTH")));
        Assert.Equal([user], IdsOf(await ListAsync(admin, tenant, "search=taocp")));
    }

    [Fact]
    public async Task Search_treats_like_wildcards_literally()
    {
        var tenant = await app.CreateTenantAsync();
        var percent = (await app.CreateUserAsync(tenant, new { email = "pct@example.com", display_name = "100% Sure" }))["id"]!.GetValue<string>();
        await app.CreateUserAsync(tenant, new { email = "plain@example.com", display_name = "100 Percent" });
        await app.CreateUserAsync(tenant, new { email = "under@example.com", display_name = "a_b" });
        await app.CreateUserAsync(tenant, new { email = "axb@example.com", display_name = "axb" });
        using var admin = await app.AdminAsync();

        Assert.Equal([percent], IdsOf(await ListAsync(admin, tenant, "search=" + Uri.EscapeDataString("100%"))));
        Assert.Single(IdsOf(await ListAsync(admin, tenant, "search=" + Uri.EscapeDataString("a_b"))));
    }

    // ---- sorting ----

    /// <summary>
    /// Four users whose every sortable field orders them differently, with nulls in the nullable ones.
    /// Index = creation order; the values are chosen so ordinal and linguistic collations agree.
    /// </summary>
    private async Task<List<string>> CreateSortFixtureAsync(string tenant)
    {
        var ids = new List<string>
        {
            (await app.CreateUserAsync(tenant, new { email = "delta@example.com", display_name = "Mango" }))["id"]!.GetValue<string>(),
            (await app.CreateUserAsync(tenant, new { email = "alpha@example.com", last_name = "Young" }))["id"]!.GetValue<string>(),
            (await app.CreateUserAsync(tenant, new { email = "charlie@example.com", display_name = "Apple", last_name = "Baker" }))["id"]!.GetValue<string>(),
            (await app.CreateUserAsync(tenant, new { email = "bravo@example.com", display_name = "Kiwi", last_name = "Moore" }))["id"]!.GetValue<string>(),
        };
        var created = new[] { new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc), new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), new(2024, 4, 1, 0, 0, 0, DateTimeKind.Utc), new(2024, 2, 1, 0, 0, 0, DateTimeKind.Utc) };
        var updated = new DateTime?[] { new DateTime(2025, 2, 2, 0, 0, 0, DateTimeKind.Utc), null, new DateTime(2025, 2, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2025, 2, 3, 0, 0, 0, DateTimeKind.Utc) };
        var lastLogin = new DateTime?[] { new DateTime(2025, 1, 3, 0, 0, 0, DateTimeKind.Utc), null, new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2025, 1, 2, 0, 0, 0, DateTimeKind.Utc) };
        var status = new[] { UserStatus.Locked, UserStatus.Active, UserStatus.PendingEmailVerification, UserStatus.Disabled };
        for (var i = 0; i < ids.Count; i++)
        {
            var index = i;
            await UpdateStoredAsync(ids[i], u =>
            {
                u.CreatedAt = created[index];
                u.UpdatedAt = updated[index];
                u.LastLoginAt = lastLogin[index];
                u.Status = status[index];
            });
        }

        return ids;
    }

    // Expected ascending order (as fixture indexes) of the non-null values, and which indexes hold null.
    [Theory]
    [InlineData("created_at", "1,3,0,2", "")]
    [InlineData("updated_at", "2,0,3", "1")]
    [InlineData("email", "1,3,2,0", "")]
    [InlineData("display_name", "2,3,0", "1")]
    [InlineData("last_name", "2,3,1", "0")]
    [InlineData("last_login_at", "2,3,0", "1")]
    [InlineData("status", "1,3,0,2", "")] // ACTIVE, DISABLED, LOCKED, PENDING_EMAIL_VERIFICATION
    public async Task Sort_by_each_field_orders_both_ways_with_nulls_last(string sortBy, string ascending, string nulls)
    {
        var tenant = await app.CreateTenantAsync();
        var ids = await CreateSortFixtureAsync(tenant);
        using var admin = await app.AdminAsync();
        var order = ascending.Split(',').Select(int.Parse).ToList();
        var nullIndexes = nulls.Length == 0 ? [] : nulls.Split(',').Select(int.Parse).ToList();

        var asc = IdsOf(await ListAsync(admin, tenant, $"sort_by={sortBy}&sort_order=asc"));
        Assert.Equal(order.Concat(nullIndexes).Select(i => ids[i]).ToList(), asc);

        var desc = IdsOf(await ListAsync(admin, tenant, $"sort_by={sortBy}&sort_order=desc"));
        Assert.Equal(Enumerable.Reverse(order).Concat(nullIndexes).Select(i => ids[i]).ToList(), desc);
    }

    [Theory]
    [InlineData("display_name")]
    [InlineData("last_name")]
    [InlineData("email")]
    public async Task Sorting_by_a_name_is_alphabetical_regardless_of_case(string sortBy)
    {
        // An operator expects "Apple, banana, Cherry, date", not all capitals first ("Apple, Cherry, banana, date").
        var tenant = await app.CreateTenantAsync();
        string[] names = ["banana", "Apple", "date", "Cherry"];
        var ids = new Dictionary<string, string>();
        foreach (var name in names)
        {
            var user = await app.CreateUserAsync(tenant, new { email = $"{name}@example.com", display_name = name, last_name = name });
            ids[name] = user["id"]!.GetValue<string>();
        }

        using var admin = await app.AdminAsync();
        var nameOf = ids.ToDictionary(p => p.Value, p => p.Key);
        string[] expected = ["Apple", "banana", "Cherry", "date"];
        Assert.Equal(expected, IdsOf(await ListAsync(admin, tenant, $"sort_by={sortBy}&sort_order=asc")).Select(id => nameOf[id]));
        Assert.Equal(expected.Reverse(), IdsOf(await ListAsync(admin, tenant, $"sort_by={sortBy}&sort_order=desc")).Select(id => nameOf[id]));
    }

    [Fact]
    public async Task Sort_order_defaults_to_desc_for_an_explicit_sort_by()
    {
        var tenant = await app.CreateTenantAsync();
        var ids = await CreateSortFixtureAsync(tenant);
        using var admin = await app.AdminAsync();
        Assert.Equal(new[] { 0, 2, 3, 1 }.Select(i => ids[i]).ToList(), IdsOf(await ListAsync(admin, tenant, "sort_by=email")));
        Assert.Equal(new[] { 2, 0, 3, 1 }.Select(i => ids[i]).ToList(), IdsOf(await ListAsync(admin, tenant)));
    }

    [Fact]
    public async Task Invalid_sort_by_and_sort_order_are_422_literal_errors()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        Assert.Equal(["query.sort_by|literal_error"], await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?sort_by=password_hash"));
        Assert.Equal(["query.sort_order|literal_error"], await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?sort_order=up"));
        Assert.Equal(["query.sort_order|literal_error"], await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?sort_order=DESC"));
        var both = await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?sort_by=id&sort_order=sideways");
        Assert.Equal(["query.sort_by|literal_error", "query.sort_order|literal_error"], both.Order());
    }

    // ---- filters ----

    [Fact]
    public async Task Status_filter_returns_only_users_in_that_status()
    {
        var tenant = await app.CreateTenantAsync();
        var ids = await CreateUsersAsync(tenant, 4);
        await UpdateStoredAsync(ids[1], u => u.Status = UserStatus.Disabled);
        await UpdateStoredAsync(ids[3], u => u.Status = UserStatus.Disabled);
        await UpdateStoredAsync(ids[2], u => u.Status = UserStatus.Locked);
        using var admin = await app.AdminAsync();

        var disabled = await ListAsync(admin, tenant, "status=DISABLED");
        Assert.Equal(new[] { ids[1], ids[3] }.Order(), IdsOf(disabled).Order());
        Assert.Equal(2, disabled["pagination"]!["total_items"]!.GetValue<int>());
        Assert.All(disabled["data"]!.AsArray(), u => Assert.Equal("DISABLED", u!["status"]!.GetValue<string>()));

        Assert.Equal([ids[2]], IdsOf(await ListAsync(admin, tenant, "status=LOCKED")));
        Assert.Equal([ids[0]], IdsOf(await ListAsync(admin, tenant, "status=PENDING_EMAIL_VERIFICATION")));
        Assert.Empty(IdsOf(await ListAsync(admin, tenant, "status=PENDING_APPROVAL")));
    }

    [Fact]
    public async Task Mfa_enabled_filter_returns_users_with_and_without_mfa()
    {
        var tenant = await app.CreateTenantAsync();
        var ids = await CreateUsersAsync(tenant, 3);
        await UpdateStoredAsync(ids[0], u => u.MfaEnabled = true);
        await UpdateStoredAsync(ids[2], u => u.MfaEnabled = true);
        using var admin = await app.AdminAsync();

        var with = await ListAsync(admin, tenant, "mfa_enabled=true");
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), IdsOf(with).Order());
        Assert.All(with["data"]!.AsArray(), u => Assert.True(u!["mfa_enabled"]!.GetValue<bool>()));

        var without = await ListAsync(admin, tenant, "mfa_enabled=false");
        Assert.Equal([ids[1]], IdsOf(without));
        Assert.False(without["data"]![0]!["mfa_enabled"]!.GetValue<bool>());

        Assert.Equal(3, IdsOf(await ListAsync(admin, tenant)).Count);
    }

    [Fact]
    public async Task Ou_filter_includes_users_of_descendant_units()
    {
        var tenant = await app.CreateTenantAsync();
        var sales = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Sales" });
        var emea = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "EMEA", parent_id = sales });
        var berlin = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Berlin", parent_id = emea });
        var support = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Support" });
        var inSales = (await app.CreateUserAsync(tenant, new { email = "s@example.com", ou_id = sales }))["id"]!.GetValue<string>();
        var inEmea = (await app.CreateUserAsync(tenant, new { email = "e@example.com", ou_id = emea }))["id"]!.GetValue<string>();
        var inBerlin = (await app.CreateUserAsync(tenant, new { email = "b@example.com", ou_id = berlin }))["id"]!.GetValue<string>();
        var inSupport = (await app.CreateUserAsync(tenant, new { email = "x@example.com", ou_id = support }))["id"]!.GetValue<string>();
        await app.CreateUserAsync(tenant, new { email = "nowhere@example.com" });
        using var admin = await app.AdminAsync();

        var bySales = await ListAsync(admin, tenant, $"ou_id={sales}");
        Assert.Equal(new[] { inSales, inEmea, inBerlin }.Order(), IdsOf(bySales).Order());
        Assert.Equal(3, bySales["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Equal(new[] { inEmea, inBerlin }.Order(), IdsOf(await ListAsync(admin, tenant, $"ou_id={emea}")).Order());
        Assert.Equal([inBerlin], IdsOf(await ListAsync(admin, tenant, $"ou_id={berlin}")));
        Assert.Equal([inSupport], IdsOf(await ListAsync(admin, tenant, $"ou_id={support}")));

        var paths = bySales["data"]!.AsArray().ToDictionary(u => u!["id"]!.GetValue<string>(), u => u!["ou_path"]!.GetValue<string>());
        Assert.Equal("/Sales", paths[inSales]);
        Assert.Equal("/Sales/EMEA", paths[inEmea]);
        Assert.Equal("/Sales/EMEA/Berlin", paths[inBerlin]);
    }

    [Fact]
    public async Task Ou_filter_follows_a_moved_subtree()
    {
        var tenant = await app.CreateTenantAsync();
        var sales = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Sales" });
        var emea = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "EMEA", parent_id = sales });
        var support = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Support" });
        var user = (await app.CreateUserAsync(tenant, new { email = "moved@example.com", ou_id = emea }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();
        Assert.Equal([user], IdsOf(await ListAsync(admin, tenant, $"ou_id={sales}")));

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{emea}", new { parent_id = support })).ShouldBeAsync(200);

        Assert.Empty(IdsOf(await ListAsync(admin, tenant, $"ou_id={sales}")));
        var bySupport = await ListAsync(admin, tenant, $"ou_id={support}");
        Assert.Equal([user], IdsOf(bySupport));
        Assert.Equal("/Support/EMEA", bySupport["data"]![0]!["ou_path"]!.GetValue<string>());
    }

    [Fact]
    public async Task Group_filter_includes_members_of_nested_child_groups()
    {
        var tenant = await app.CreateTenantAsync();
        var parent = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Engineering" });
        var child = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Backend", parent_group_id = parent });
        var grandchild = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Databases", parent_group_id = child });
        var other = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Marketing" });
        var ids = await CreateUsersAsync(tenant, 5);
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{parent}/members", new { user_ids = new[] { ids[0] } })).ShouldBeAsync(200);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{child}/members", new { user_ids = new[] { ids[1] } })).ShouldBeAsync(200);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{grandchild}/members", new { user_ids = new[] { ids[2], ids[0] } })).ShouldBeAsync(200);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{other}/members", new { user_ids = new[] { ids[3] } })).ShouldBeAsync(200);

        // ids[0] is a member twice (directly and via the grandchild) but listed once.
        var byParent = await ListAsync(admin, tenant, $"group_id={parent}");
        Assert.Equal(new[] { ids[0], ids[1], ids[2] }.Order(), IdsOf(byParent).Order());
        Assert.Equal(3, byParent["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Equal(new[] { ids[0], ids[1], ids[2] }.Order(), IdsOf(await ListAsync(admin, tenant, $"group_id={child}")).Order());
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), IdsOf(await ListAsync(admin, tenant, $"group_id={grandchild}")).Order());
        Assert.Equal([ids[3]], IdsOf(await ListAsync(admin, tenant, $"group_id={other}")));
    }

    [Fact]
    public async Task Filters_combine()
    {
        var tenant = await app.CreateTenantAsync();
        var ou = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Ops" });
        var a = (await app.CreateUserAsync(tenant, new { email = "ops.one@example.com", ou_id = ou }))["id"]!.GetValue<string>();
        var b = (await app.CreateUserAsync(tenant, new { email = "ops.two@example.com", ou_id = ou }))["id"]!.GetValue<string>();
        await app.CreateUserAsync(tenant, new { email = "ops.three@example.com" });
        await UpdateStoredAsync(b, u => u.MfaEnabled = true);
        using var admin = await app.AdminAsync();

        Assert.Equal([a], IdsOf(await ListAsync(admin, tenant, $"ou_id={ou}&mfa_enabled=false&search=OPS&status=PENDING_EMAIL_VERIFICATION")));
        Assert.Equal([b], IdsOf(await ListAsync(admin, tenant, $"ou_id={ou}&mfa_enabled=true")));
    }

    [Fact]
    public async Task Unknown_ou_id_or_group_id_is_a_422_on_that_parameter()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var ou = await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?ou_id={Guid.NewGuid()}");
        Assert.Equal("query.ou_id", Assert.Single(ou).Split('|')[0]);
        var group = await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?group_id={Guid.NewGuid()}");
        Assert.Equal("query.group_id", Assert.Single(group).Split('|')[0]);
    }

    [Fact]
    public async Task Unknown_ou_id_and_group_id_together_are_both_reported()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var errors = await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?ou_id={Guid.NewGuid()}&group_id={Guid.NewGuid()}");
        Assert.Equal(["query.group_id", "query.ou_id"], errors.Select(e => e.Split('|')[0]).Order());
    }

    // ---- soft delete ----

    [Fact]
    public async Task Soft_deleted_users_never_appear()
    {
        var tenant = await app.CreateTenantAsync();
        var group = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Everyone" });
        var ids = await CreateUsersAsync(tenant, 3, i => new { email = $"gone{i}@example.com", group_ids = new[] { group } });
        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{ids[1]}?confirm_email=GONE1@example.com")).ShouldBeAsync(204);

        var all = await ListAsync(admin, tenant);
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), IdsOf(all).Order());
        Assert.Equal(2, all["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Empty(IdsOf(await ListAsync(admin, tenant, "search=gone1")));
        Assert.DoesNotContain(ids[1], IdsOf(await ListAsync(admin, tenant, "status=PENDING_EMAIL_VERIFICATION")));
        Assert.DoesNotContain(ids[1], IdsOf(await ListAsync(admin, tenant, $"group_id={group}")));
        Assert.DoesNotContain(ids[1], IdsOf(await ListAsync(admin, tenant, "sort_by=email&sort_order=asc")));

        var adminList = await (await admin.GetAsync($"/api/v1/admin/users/?tenant_id={tenant}")).ReadJsonAsync(200);
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), IdsOf(adminList).Order());
        Assert.DoesNotContain(ids[1], IdsOf(await (await admin.GetAsync("/api/v1/admin/users/?search=gone1@")).ReadJsonAsync(200)));
    }

    // ---- query validation ----

    [Theory]
    [InlineData("page=0", "query.page|greater_than_equal")]
    [InlineData("page=-3", "query.page|greater_than_equal")]
    [InlineData("per_page=0", "query.per_page|greater_than_equal")]
    [InlineData("per_page=101", "query.per_page|less_than_equal")]
    [InlineData("page=abc", "query.page|int_parsing")]
    [InlineData("per_page=1.5", "query.per_page|int_parsing")]
    [InlineData("status=FOO", "query.status|enum")]
    [InlineData("status=active", "query.status|enum")]
    [InlineData("mfa_enabled=maybe", "query.mfa_enabled|bool_parsing")]
    public async Task Invalid_query_parameters_are_422(string query, string expected)
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        Assert.Equal([expected], await ErrorsAsync(admin, $"/api/v1/tenants/{tenant}/users?{query}"));
    }

    [Fact]
    public async Task Several_invalid_parameters_are_all_listed()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var errors = await ErrorsAsync(admin,
            $"/api/v1/tenants/{tenant}/users?page=0&per_page=101&status=FOO&mfa_enabled=maybe&sort_by=nope&sort_order=nope");
        Assert.Equal(new[]
        {
            "query.mfa_enabled|bool_parsing",
            "query.page|greater_than_equal",
            "query.per_page|less_than_equal",
            "query.sort_by|literal_error",
            "query.sort_order|literal_error",
            "query.status|enum",
        }, errors.Order());
    }

    [Fact]
    public async Task Validation_errors_have_the_pydantic_shape()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var json = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?per_page=101")).ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray())!;
        Assert.Equal(["query", "per_page"], error["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(error["msg"]!.GetValue<string>()));
        Assert.Equal("less_than_equal", error["type"]!.GetValue<string>());
    }

    // ---- admin list ----

    [Fact]
    public async Task Admin_list_items_carry_tenant_id_and_filter_by_tenant()
    {
        var first = await app.CreateTenantAsync();
        var second = await app.CreateTenantAsync();
        var inFirst = await CreateUsersAsync(first, 2, i => new { email = $"adm{i}@example.com", display_name = "First " + i });
        var inSecond = await CreateUsersAsync(second, 1, i => new { email = $"adm{i}@example.com" });
        using var admin = await app.AdminAsync();

        var json = await (await admin.GetAsync($"/api/v1/admin/users/?tenant_id={first}")).ReadJsonAsync(200);
        Assert.Equal(inFirst.Order(), IdsOf(json).Order());
        Assert.Equal(2, json["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Equal(20, json["pagination"]!["per_page"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(json["meta"]!["request_id"]!.GetValue<string>()));
        foreach (var item in json["data"]!.AsArray())
        {
            Assert.Equal(first, item!["tenant_id"]!.GetValue<string>());
            Assert.Equal(ListItemFields.Append("tenant_id").Order(), item.AsObject().Select(p => p.Key).Order());
        }

        Assert.Equal(inSecond, IdsOf(await (await admin.GetAsync($"/api/v1/admin/users/?tenant_id={second}")).ReadJsonAsync(200)));

        // Without a filter both tenants' users are there, each with its own tenant_id.
        var all = await (await admin.GetAsync("/api/v1/admin/users/?search=adm0@example.com&per_page=100")).ReadJsonAsync(200);
        var tenants = all["data"]!.AsArray().ToDictionary(u => u!["id"]!.GetValue<string>(), u => u!["tenant_id"]!.GetValue<string>());
        Assert.Equal(first, tenants[inFirst[0]]);
        Assert.Equal(second, tenants[inSecond[0]]);
    }

    [Fact]
    public async Task Admin_list_filters_by_partner_status_and_search()
    {
        using var admin = await app.AdminAsync();
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Partner " + Guid.NewGuid().ToString("N")[..8] });
        var partnerTenantA = await app.CreateTenantAsync(partnerId: partner);
        var partnerTenantB = await app.CreateTenantAsync(partnerId: partner);
        var outside = await app.CreateTenantAsync();
        var a = await app.CreateUserIdAsync(partnerTenantA);
        var b = await app.CreateUserIdAsync(partnerTenantB);
        await app.CreateUserIdAsync(outside);
        await UpdateStoredAsync(b, u => u.Status = UserStatus.Disabled);

        var byPartner = await (await admin.GetAsync($"/api/v1/admin/users/?partner_id={partner}")).ReadJsonAsync(200);
        Assert.Equal(new[] { a, b }.Order(), IdsOf(byPartner).Order());
        Assert.Equal(2, byPartner["pagination"]!["total_items"]!.GetValue<int>());

        Assert.Equal([b], IdsOf(await (await admin.GetAsync($"/api/v1/admin/users/?partner_id={partner}&status=DISABLED")).ReadJsonAsync(200)));
        Assert.Equal([a], IdsOf(await (await admin.GetAsync($"/api/v1/admin/users/?partner_id={partner}&tenant_id={partnerTenantA}")).ReadJsonAsync(200)));

        var paged = await (await admin.GetAsync($"/api/v1/admin/users/?partner_id={partner}&per_page=1&page=2")).ReadJsonAsync(200);
        Assert.Single(paged["data"]!.AsArray());
        Assert.Equal(2, paged["pagination"]!["total_pages"]!.GetValue<int>());
    }

    [Fact]
    public async Task Admin_list_rejects_bad_parameters_with_422()
    {
        using var admin = await app.AdminAsync();
        Assert.Equal(["query.status|enum"], await ErrorsAsync(admin, "/api/v1/admin/users/?status=FOO"));
        Assert.Equal(["query.page|greater_than_equal"], await ErrorsAsync(admin, "/api/v1/admin/users/?page=0"));
        Assert.Equal(["query.per_page|less_than_equal"], await ErrorsAsync(admin, "/api/v1/admin/users/?per_page=101"));
        var both = await ErrorsAsync(admin, "/api/v1/admin/users/?status=nope&page=x");
        Assert.Equal(["query.page|int_parsing", "query.status|enum"], both.Order());
    }
}
