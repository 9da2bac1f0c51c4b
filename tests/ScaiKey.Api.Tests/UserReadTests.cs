using System.Globalization;
using System.Text.Json;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>GET /api/v1/tenants/{t}/users/{id} and the admin reads: fields, envelope, groups, OU path, expansions.</summary>
public sealed class UserReadTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";

    private static readonly string[] UserResponseFields =
    [
        "email", "username", "first_name", "last_name", "display_name", "phone", "locale", "timezone", "id", "email_verified",
        "avatar_url", "ou_id", "ou_path", "status", "identity_source", "mfa_enabled", "groups", "custom_attributes",
        "created_at", "updated_at", "last_login_at", "password_changed_at",
    ];

    private static async Task<JsonNode> GetUserAsync(HttpClient client, string tenant, string user, string query = "") =>
        (await (await client.GetAsync($"/api/v1/tenants/{tenant}/users/{user}{(query.Length == 0 ? "" : "?" + query)}")).ReadJsonAsync(200))["data"]!;

    private static List<(string Id, string Name, string Type)> Memberships(JsonNode groups) =>
        groups.AsArray().Select(g => (g!["group_id"]!.GetValue<string>(), g["name"]!.GetValue<string>(), g["membership_type"]!.GetValue<string>()))
            .OrderBy(g => g.Item1, StringComparer.Ordinal).ToList();

    private static void AssertUtcTimestamp(JsonNode? node, DateTime notBefore)
    {
        Assert.NotNull(node);
        Assert.Equal(JsonValueKind.String, node.GetValueKind());
        var text = node.GetValue<string>();
        Assert.EndsWith("Z", text, StringComparison.Ordinal);
        var value = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.Zero, value.Offset);
        Assert.InRange(value.UtcDateTime, notBefore.AddSeconds(-5), DateTime.UtcNow.AddSeconds(5));
    }

    // ---- fields and envelope ----

    [Fact]
    public async Task Get_returns_every_user_response_field_with_its_type()
    {
        var started = DateTime.UtcNow;
        var tenant = await app.CreateTenantAsync();
        var ou = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Research" });
        var group = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Analysts" });
        var created = await app.CreateUserAsync(tenant, new
        {
            email = "ada.lovelace@example.com",
            username = "ada",
            first_name = "Ada",
            last_name = "Lovelace",
            display_name = "Ada L.",
            phone = "+14155550123",
            locale = "en-GB",
            timezone = "Europe/London",
            password = Password,
            ou_id = ou,
            group_ids = new[] { group },
            custom_attributes = new { department = "R&D", level = 3, tags = new[] { "math" } },
        });
        var id = created["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();

        var response = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{id}");
        var json = await response.ReadJsonAsync(200);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var user = json["data"]!.AsObject();

        Assert.Equal(UserResponseFields.Order(), user.Select(p => p.Key).Order());
        Assert.Equal(id, user["id"]!.GetValue<string>());
        Assert.Equal("ada.lovelace@example.com", user["email"]!.GetValue<string>());
        Assert.Equal("ada", user["username"]!.GetValue<string>());
        Assert.Equal("Ada", user["first_name"]!.GetValue<string>());
        Assert.Equal("Lovelace", user["last_name"]!.GetValue<string>());
        Assert.Equal("Ada L.", user["display_name"]!.GetValue<string>());
        Assert.Equal("+14155550123", user["phone"]!.GetValue<string>());
        Assert.Equal("en-GB", user["locale"]!.GetValue<string>());
        Assert.Equal("Europe/London", user["timezone"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.False, user["email_verified"]!.GetValueKind());
        Assert.Null(user["avatar_url"]);
        Assert.Equal(ou, user["ou_id"]!.GetValue<string>());
        Assert.Equal("/Research", user["ou_path"]!.GetValue<string>());
        Assert.Equal("ACTIVE", user["status"]!.GetValue<string>());
        Assert.Equal("LOCAL", user["identity_source"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.False, user["mfa_enabled"]!.GetValueKind());
        Assert.Equal([(group, "Analysts", "DIRECT")], Memberships(user["groups"]!));
        Assert.Equal(JsonValueKind.Object, user["custom_attributes"]!.GetValueKind());
        Assert.Equal("R&D", user["custom_attributes"]!["department"]!.GetValue<string>());
        Assert.Equal(3, user["custom_attributes"]!["level"]!.GetValue<int>());
        Assert.Equal("math", user["custom_attributes"]!["tags"]![0]!.GetValue<string>());
        AssertUtcTimestamp(user["created_at"], started);
        AssertUtcTimestamp(user["password_changed_at"], started);
        Assert.Null(user["updated_at"]);
        Assert.Null(user["last_login_at"]);

        var meta = json["meta"]!;
        Assert.False(string.IsNullOrEmpty(meta["request_id"]!.GetValue<string>()));
        AssertUtcTimestamp(meta["timestamp"], started);
        Assert.Equal(["data", "meta"], json.AsObject().Select(p => p.Key).Order());

        // The GET equals what create returned.
        Assert.True(JsonNode.DeepEquals(created, user), $"create: {created.ToJsonString()}\nget: {user.ToJsonString()}");
    }

    [Fact]
    public async Task A_minimal_user_has_nulls_defaults_and_an_empty_groups_array()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await app.CreateUserIdAsync(tenant, "minimal@example.com");
        using var admin = await app.AdminAsync();
        var user = (await GetUserAsync(admin, tenant, id)).AsObject();

        Assert.Equal(UserResponseFields.Order(), user.Select(p => p.Key).Order());
        foreach (var field in new[] { "username", "first_name", "last_name", "display_name", "phone", "avatar_url", "ou_id", "ou_path", "custom_attributes", "updated_at", "last_login_at", "password_changed_at" })
        {
            Assert.True(user[field] is null, $"{field} should be null, was {user[field]?.ToJsonString()}");
        }

        Assert.Equal("en", user["locale"]!.GetValue<string>());
        Assert.Equal("UTC", user["timezone"]!.GetValue<string>());
        Assert.Equal("PENDING_EMAIL_VERIFICATION", user["status"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.Array, user["groups"]!.GetValueKind());
        Assert.Empty(user["groups"]!.AsArray());
    }

    [Fact]
    public async Task Stored_timestamps_and_flags_are_returned()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await app.CreateUserIdAsync(tenant);
        var login = new DateTime(2025, 6, 1, 8, 30, 15, DateTimeKind.Utc);
        await app.DbAsync(async db =>
        {
            var user = await db.Users.FindAsync(id);
            user!.LastLoginAt = login;
            user.MfaEnabled = true;
            user.EmailVerified = true;
            await db.SaveChangesAsync();
        });
        using var admin = await app.AdminAsync();
        var json = await GetUserAsync(admin, tenant, id);
        Assert.Equal(login, DateTimeOffset.Parse(json["last_login_at"]!.GetValue<string>(), CultureInfo.InvariantCulture).UtcDateTime);
        Assert.EndsWith("Z", json["last_login_at"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(json["mfa_enabled"]!.GetValue<bool>());
        Assert.True(json["email_verified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Get_sends_an_etag_that_changes_with_the_user()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();

        var first = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{id}");
        await first.ShouldBeAsync(200);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.StartsWith("\"", etag.Tag, StringComparison.Ordinal);

        var again = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{id}");
        Assert.Equal(etag, again.Headers.ETag);

        var patch = await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{id}", new { display_name = "Changed" });
        await patch.ShouldBeAsync(200);
        var after = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{id}");
        Assert.NotEqual(etag, after.Headers.ETag);
        Assert.Equal(patch.Headers.ETag, after.Headers.ETag);

        var adminGet = await admin.GetAsync($"/api/v1/admin/users/{id}");
        await adminGet.ShouldBeAsync(200);
        Assert.Equal(after.Headers.ETag, adminGet.Headers.ETag);
    }

    [Fact]
    public async Task Request_id_header_is_echoed_in_meta_and_response_header()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/{tenant}/users/{id}");
        request.Headers.Add("X-Request-ID", "trace-4711-abc");
        var response = await admin.SendAsync(request);
        var json = await response.ReadJsonAsync(200);
        Assert.Equal("trace-4711-abc", json["meta"]!["request_id"]!.GetValue<string>());
        Assert.Equal("trace-4711-abc", Assert.Single(response.Headers.GetValues("X-Request-ID")));

        // Lists and errors carry it too.
        using var listRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/{tenant}/users");
        listRequest.Headers.Add("X-Request-ID", "trace-list-1");
        var list = await admin.SendAsync(listRequest);
        Assert.Equal("trace-list-1", (await list.ReadJsonAsync(200))["meta"]!["request_id"]!.GetValue<string>());
        Assert.Equal("trace-list-1", Assert.Single(list.Headers.GetValues("X-Request-ID")));

        using var missingRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/{tenant}/users/{Guid.NewGuid()}");
        missingRequest.Headers.Add("X-Request-ID", "trace-missing-2");
        var missing = await admin.SendAsync(missingRequest);
        Assert.Equal("trace-missing-2", (await missing.ReadProblemAsync(404))["request_id"]!.GetValue<string>());
        Assert.Equal("trace-missing-2", Assert.Single(missing.Headers.GetValues("X-Request-ID")));
    }

    [Fact]
    public async Task Without_a_request_id_header_a_generated_one_is_returned_in_both_places()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();

        var first = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{id}");
        var firstId = (await first.ReadJsonAsync(200))["meta"]!["request_id"]!.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(firstId));
        Assert.Equal(firstId, Assert.Single(first.Headers.GetValues("X-Request-ID")));

        var second = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{id}");
        var secondId = (await second.ReadJsonAsync(200))["meta"]!["request_id"]!.GetValue<string>();
        Assert.Equal(secondId, Assert.Single(second.Headers.GetValues("X-Request-ID")));
        Assert.NotEqual(firstId, secondId);
    }

    [Fact]
    public async Task An_overlong_request_id_is_replaced_by_a_generated_one()
    {
        var tenant = await app.CreateTenantAsync();
        var id = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();
        var tooLong = new string('r', 129);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/{tenant}/users/{id}");
        request.Headers.Add("X-Request-ID", tooLong);
        var response = await admin.SendAsync(request);
        var requestId = (await response.ReadJsonAsync(200))["meta"]!["request_id"]!.GetValue<string>();
        Assert.NotEqual(tooLong, requestId);
        Assert.False(string.IsNullOrEmpty(requestId));
        Assert.Equal(requestId, Assert.Single(response.Headers.GetValues("X-Request-ID")));

        using var exact = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/{tenant}/users/{id}");
        var longest = new string('q', 128);
        exact.Headers.Add("X-Request-ID", longest);
        Assert.Equal(longest, (await (await admin.SendAsync(exact)).ReadJsonAsync(200))["meta"]!["request_id"]!.GetValue<string>());
    }

    // ---- groups ----

    [Fact]
    public async Task Groups_lists_direct_groups_and_their_ancestors_as_inherited()
    {
        var tenant = await app.CreateTenantAsync();
        var root = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Company" });
        var parent = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Engineering", parent_group_id = root });
        var child = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Backend", parent_group_id = parent });
        var sibling = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Frontend", parent_group_id = parent });
        var unrelated = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Choir" });
        var user = await app.CreateUserIdAsync(tenant);
        var other = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{child}/members", new { user_ids = new[] { user } })).ShouldBeAsync(200);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{unrelated}/members", new { user_ids = new[] { user } })).ShouldBeAsync(200);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{sibling}/members", new { user_ids = new[] { other } })).ShouldBeAsync(200);

        var expected = new List<(string, string, string)>
        {
            (root, "Company", "INHERITED"),
            (parent, "Engineering", "INHERITED"),
            (child, "Backend", "DIRECT"),
            (unrelated, "Choir", "DIRECT"),
        }.OrderBy(g => g.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Memberships((await GetUserAsync(admin, tenant, user))["groups"]!));

        var adminGroups = await (await admin.GetAsync($"/api/v1/admin/users/{user}/groups")).ReadJsonAsync(200);
        Assert.Equal(expected, Memberships(adminGroups["data"]!));

        Assert.Equal(
            new List<(string, string, string)> { (root, "Company", "INHERITED"), (parent, "Engineering", "INHERITED"), (sibling, "Frontend", "DIRECT") }
                .OrderBy(g => g.Item1, StringComparer.Ordinal).ToList(),
            Memberships((await GetUserAsync(admin, tenant, other))["groups"]!));
    }

    [Fact]
    public async Task A_direct_member_of_a_parent_and_its_child_is_listed_once_as_direct()
    {
        var tenant = await app.CreateTenantAsync();
        var parent = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Parent" });
        var child = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Child", parent_group_id = parent });
        var user = (await app.CreateUserAsync(tenant, new { email = "both@example.com", group_ids = new[] { parent, child } }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();

        var expected = new List<(string, string, string)> { (parent, "Parent", "DIRECT"), (child, "Child", "DIRECT") }
            .OrderBy(g => g.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Memberships((await GetUserAsync(admin, tenant, user))["groups"]!));
        Assert.Equal(expected, Memberships((await (await admin.GetAsync($"/api/v1/admin/users/{user}/groups")).ReadJsonAsync(200))["data"]!));
    }

    [Fact]
    public async Task Groups_follow_membership_changes_and_nesting_changes()
    {
        var tenant = await app.CreateTenantAsync();
        var parent = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Ops" });
        var child = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Oncall" });
        var user = (await app.CreateUserAsync(tenant, new { email = "pager@example.com", group_ids = new[] { child } }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();
        Assert.Equal([(child, "Oncall", "DIRECT")], Memberships((await GetUserAsync(admin, tenant, user))["groups"]!));

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{child}", new { parent_group_id = parent })).ShouldBeAsync(200);
        Assert.Contains((parent, "Ops", "INHERITED"), Memberships((await GetUserAsync(admin, tenant, user))["groups"]!));

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{parent}", new { name = "Operations" })).ShouldBeAsync(200);
        Assert.Contains((parent, "Operations", "INHERITED"), Memberships((await GetUserAsync(admin, tenant, user))["groups"]!));

        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/groups/{child}/members/{user}")).ShouldBeAsync(204);
        Assert.Empty((await GetUserAsync(admin, tenant, user))["groups"]!.AsArray());
        Assert.Empty((await (await admin.GetAsync($"/api/v1/admin/users/{user}/groups")).ReadJsonAsync(200))["data"]!.AsArray());
    }

    [Fact]
    public async Task Admin_groups_of_an_unknown_user_is_404()
    {
        using var admin = await app.AdminAsync();
        await (await admin.GetAsync($"/api/v1/admin/users/{Guid.NewGuid()}/groups")).ReadProblemAsync(404);
    }

    // ---- OU path ----

    [Fact]
    public async Task Ou_path_follows_rename_and_move_of_the_unit_and_its_ancestors()
    {
        var tenant = await app.CreateTenantAsync();
        var sales = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Sales" });
        var emea = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "EMEA", parent_id = sales });
        var support = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Support" });
        var user = (await app.CreateUserAsync(tenant, new { email = "rep@example.com", ou_id = emea }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();

        async Task AssertPathAsync(string expected)
        {
            var json = await GetUserAsync(admin, tenant, user);
            Assert.Equal(expected, json["ou_path"]!.GetValue<string>());
            Assert.Equal(emea, json["ou_id"]!.GetValue<string>());
            var listed = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadJsonAsync(200);
            Assert.Equal(expected, listed["data"]![0]!["ou_path"]!.GetValue<string>());
            var adminJson = await (await admin.GetAsync($"/api/v1/admin/users/{user}")).ReadJsonAsync(200);
            Assert.Equal(expected, adminJson["data"]!["ou_path"]!.GetValue<string>());
        }

        await AssertPathAsync("/Sales/EMEA");

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{sales}", new { name = "Revenue" })).ShouldBeAsync(200);
        await AssertPathAsync("/Revenue/EMEA");

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{emea}", new { name = "Europe" })).ShouldBeAsync(200);
        await AssertPathAsync("/Revenue/Europe");

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{emea}", new { parent_id = support })).ShouldBeAsync(200);
        await AssertPathAsync("/Support/Europe");

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{emea}", new { parent_id = (string?)null })).ShouldBeAsync(200);
        await AssertPathAsync("/Europe");
    }

    [Fact]
    public async Task Ou_path_follows_a_user_moved_to_another_unit()
    {
        var tenant = await app.CreateTenantAsync();
        var first = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "First" });
        var second = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Second" });
        var user = (await app.CreateUserAsync(tenant, new { email = "mover@example.com", ou_id = first }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}", new { ou_id = second })).ShouldBeAsync(200);
        var json = await GetUserAsync(admin, tenant, user);
        Assert.Equal(second, json["ou_id"]!.GetValue<string>());
        Assert.Equal("/Second", json["ou_path"]!.GetValue<string>());

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}", new { ou_id = (string?)null })).ShouldBeAsync(200);
        json = await GetUserAsync(admin, tenant, user);
        Assert.Null(json["ou_id"]);
        Assert.Null(json["ou_path"]);
    }

    // ---- include ----

    [Fact]
    public async Task Include_sessions_lists_only_open_sessions_of_the_user()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        var other = await app.CreateUserIdAsync(tenant);
        var now = DateTime.UtcNow;
        string[] open = [Guid.NewGuid().ToString(), Guid.NewGuid().ToString()];
        var revoked = Guid.NewGuid().ToString();
        await app.DbAsync(db =>
        {
            db.UserSessions.Add(new UserSession { Id = open[0], TenantId = tenant, UserId = user, UserAgent = "Firefox", IpAddress = "192.0.2.1", CreatedAt = now.AddHours(-2), LastSeenAt = now.AddMinutes(-5) });
            db.UserSessions.Add(new UserSession { Id = open[1], TenantId = tenant, UserId = user, UserAgent = "curl/8", IpAddress = "2001:db8::1", CreatedAt = now.AddHours(-1), LastSeenAt = now.AddMinutes(-1) });
            db.UserSessions.Add(new UserSession { Id = revoked, TenantId = tenant, UserId = user, UserAgent = "Old", CreatedAt = now.AddDays(-2), LastSeenAt = now.AddDays(-1), RevokedAt = now.AddDays(-1) });
            db.UserSessions.Add(new UserSession { Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = other, UserAgent = "Other", CreatedAt = now, LastSeenAt = now });
            return db.SaveChangesAsync();
        });
        using var admin = await app.AdminAsync();

        var json = await GetUserAsync(admin, tenant, user, "include=sessions");
        var sessions = json["sessions"]!.AsArray();
        Assert.Equal(open.Order(), sessions.Select(s => s!["id"]!.GetValue<string>()).Order());
        var firefox = sessions.Single(s => s!["id"]!.GetValue<string>() == open[0])!;
        Assert.Equal("Firefox", firefox["user_agent"]!.GetValue<string>());
        Assert.Equal("192.0.2.1", firefox["ip_address"]!.GetValue<string>());
        AssertUtcTimestamp(firefox["created_at"], now.AddHours(-2));
        AssertUtcTimestamp(firefox["last_seen_at"], now.AddMinutes(-5));
        Assert.Null(json["mfa_factors"]);
        Assert.Null(json["federated_identities"]);
        Assert.Null(json["applications"]);
        Assert.NotNull(json["groups"]);

        Assert.Empty((await GetUserAsync(admin, tenant, await app.CreateUserIdAsync(tenant), "include=sessions"))["sessions"]!.AsArray());
    }

    [Fact]
    public async Task Include_mfa_factors_lists_confirmed_factors_without_their_secrets()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        var factor = Guid.NewGuid().ToString();
        const string Secret = "SEALED-TOTP-SECRET-7f3a9c";
        await app.DbAsync(async db =>
        {
            db.MfaFactors.Add(new MfaFactor
            {
                Id = factor, TenantId = tenant, UserId = user, Type = "TOTP", Name = "Phone", SecretEncrypted = Secret, CreatedAt = DateTime.UtcNow,
                ConfirmedAt = DateTime.UtcNow,
            });

            // An enrolment never confirmed protects nothing and is not listed.
            db.MfaFactors.Add(new MfaFactor
            {
                Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, Type = "TOTP", Name = "Unfinished", SecretEncrypted = Secret,
                CreatedAt = DateTime.UtcNow,
            });
            var stored = await db.Users.FindAsync(user);
            stored!.MfaEnabled = true;
            await db.SaveChangesAsync();
        });
        using var admin = await app.AdminAsync();

        var response = await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include=mfa_factors");
        var raw = await response.Content.ReadAsStringAsync();
        var json = (await response.ReadJsonAsync(200))["data"]!;
        var item = Assert.Single(json["mfa_factors"]!.AsArray())!;
        Assert.Equal(factor, item["id"]!.GetValue<string>());
        Assert.Equal("TOTP", item["type"]!.GetValue<string>());
        Assert.Equal("Phone", item["name"]!.GetValue<string>());
        Assert.NotNull(item["created_at"]);
        Assert.True(item.AsObject().ContainsKey("last_used_at"), raw);
        Assert.Equal(["created_at", "id", "last_used_at", "name", "type"], item.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Secret, raw, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", raw, StringComparison.OrdinalIgnoreCase);
        Assert.True(json["mfa_enabled"]!.GetValue<bool>());
        Assert.Null(json["sessions"]);
    }

    [Fact]
    public async Task Include_federated_identities_and_applications_gives_empty_arrays()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();

        var json = await GetUserAsync(admin, tenant, user, "include=federated_identities,applications");
        Assert.Equal(JsonValueKind.Array, json["federated_identities"]!.GetValueKind());
        Assert.Empty(json["federated_identities"]!.AsArray());
        Assert.Equal(JsonValueKind.Array, json["applications"]!.GetValueKind());
        Assert.Empty(json["applications"]!.AsArray());
        Assert.False(json.AsObject().ContainsKey("sessions"));
        Assert.False(json.AsObject().ContainsKey("mfa_factors"));
    }

    [Fact]
    public async Task Include_all_four_expansions_at_once()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();
        var json = (await GetUserAsync(admin, tenant, user, "include=federated_identities,applications,sessions,mfa_factors")).AsObject();
        Assert.Equal(UserResponseFields.Concat(["federated_identities", "applications", "sessions", "mfa_factors"]).Order(), json.Select(p => p.Key).Order());
    }

    [Fact]
    public async Task Without_include_the_expansion_keys_are_absent()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        await app.DbAsync(db =>
        {
            db.UserSessions.Add(new UserSession { Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, CreatedAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow });
            return db.SaveChangesAsync();
        });
        using var admin = await app.AdminAsync();
        var json = (await GetUserAsync(admin, tenant, user)).AsObject();
        foreach (var key in new[] { "federated_identities", "applications", "sessions", "mfa_factors" })
        {
            Assert.False(json.ContainsKey(key), key);
        }
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("sessions,bogus")]
    [InlineData("SESSIONS")]
    [InlineData("password_hash")]
    public async Task Unknown_include_words_are_422_on_query_include(string include)
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();
        var errors = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include={include}")).ReadValidationErrorsAsync();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.StartsWith("query.include|", e, StringComparison.Ordinal));
    }

    // ---- not found and admin read ----

    [Fact]
    public async Task Unknown_user_is_404_problem_json()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var problem = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{Guid.NewGuid()}")).ReadProblemAsync(404);
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(problem["type"]?.GetValue<string>()));
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/not-even-a-uuid")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/admin/users/{Guid.NewGuid()}")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task A_deleted_user_is_404_everywhere()
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserIdAsync(tenant, "deleted.reader@example.com");
        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{user}?confirm_email=deleted.reader@example.com")).ShouldBeAsync(204);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include=sessions")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/admin/users/{user}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/admin/users/{user}/groups")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Admin_get_returns_the_user_with_its_tenant_id()
    {
        var tenant = await app.CreateTenantAsync();
        var group = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Admins" });
        var user = (await app.CreateUserAsync(tenant, new { email = "admin.read@example.com", display_name = "Admin Read", group_ids = new[] { group } }))["id"]!.GetValue<string>();
        using var admin = await app.AdminAsync();

        var adminJson = await (await admin.GetAsync($"/api/v1/admin/users/{user}")).ReadJsonAsync(200);
        var data = adminJson["data"]!.AsObject();
        Assert.Equal(tenant, data["tenant_id"]!.GetValue<string>());
        Assert.Equal(UserResponseFields.Append("tenant_id").Order(), data.Select(p => p.Key).Order());
        Assert.False(string.IsNullOrEmpty(adminJson["meta"]!["request_id"]!.GetValue<string>()));

        var tenantJson = await GetUserAsync(admin, tenant, user);
        data.Remove("tenant_id");
        Assert.True(JsonNode.DeepEquals(tenantJson, data), $"tenant route: {tenantJson.ToJsonString()}\nadmin route: {data.ToJsonString()}");
    }
}
