using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>POST /api/v1/tenants/{tenant_id}/users: what a new user looks like, what is refused, and what is recorded.</summary>
public sealed class UserCreateTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string ValidPassword = "Quartz-Lantern-93!";

    private static readonly string[] UserResponseFields =
    [
        "email", "username", "first_name", "last_name", "display_name", "phone", "locale", "timezone", "id",
        "email_verified", "avatar_url", "ou_id", "ou_path", "status", "identity_source", "mfa_enabled", "groups",
        "custom_attributes", "created_at", "updated_at", "last_login_at", "password_changed_at",
    ];

    private static string NewEmail(string prefix = "u") => $"{prefix}{Guid.NewGuid():N}@example.com";

    private static string UsersPath(string tenantId) => $"/api/v1/tenants/{tenantId}/users";

    private async Task<HttpResponseMessage> PostAsync(string tenantId, object body)
    {
        using var admin = await app.AdminAsync();
        return await admin.PostAsJsonAsync(UsersPath(tenantId), body);
    }

    private async Task<HttpResponseMessage> PostRawAsync(string tenantId, HttpContent content)
    {
        using var admin = await app.AdminAsync();
        return await admin.PostAsync(UsersPath(tenantId), content);
    }

    private Task<int> CountUsersAsync(string tenantId) =>
        app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == tenantId));

    [Fact]
    public async Task Create_returns_201_with_the_full_envelope_location_etag_and_defaults()
    {
        var tenant = await app.CreateTenantAsync();
        var local = "Ada.Lovelace." + Guid.NewGuid().ToString("N")[..8];
        var response = await PostAsync(tenant, new { email = $"{local}@Example.COM", password = ValidPassword });
        var json = await response.ReadJsonAsync(201);

        var data = json["data"]!.AsObject();
        foreach (var field in UserResponseFields)
        {
            Assert.True(data.ContainsKey(field), $"data lacks '{field}': {data.ToJsonString()}");
        }

        Assert.DoesNotContain(data, p => p.Key.Contains("password", StringComparison.Ordinal) && p.Key != "password_changed_at");

        var id = data["id"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(id));
        Assert.Equal($"{local}@example.com", data["email"]!.GetValue<string>());
        Assert.Equal("LOCAL", data["identity_source"]!.GetValue<string>());
        Assert.Equal("en", data["locale"]!.GetValue<string>());
        Assert.Equal("UTC", data["timezone"]!.GetValue<string>());
        Assert.Empty(data["groups"]!.AsArray());
        Assert.False(data["mfa_enabled"]!.GetValue<bool>());
        Assert.False(data["email_verified"]!.GetValue<bool>());
        Assert.Null(data["ou_id"]);
        Assert.True(DateTime.TryParse(data["created_at"]!.GetValue<string>(), out _));

        var meta = json["meta"]!;
        Assert.False(string.IsNullOrEmpty(meta["request_id"]!.GetValue<string>()));
        Assert.True(DateTime.TryParse(meta["timestamp"]!.GetValue<string>(), out _));

        Assert.NotNull(response.Headers.Location);
        Assert.EndsWith($"/api/v1/tenants/{tenant}/users/{id}", response.Headers.Location!.ToString());
        Assert.NotNull(response.Headers.ETag);

        // The Location really is the new user, with the same ETag.
        using var admin = await app.AdminAsync();
        var get = await admin.GetAsync(response.Headers.Location);
        var fetched = await get.ReadJsonAsync(200);
        Assert.Equal(id, fetched["data"]!["id"]!.GetValue<string>());
        Assert.Equal(response.Headers.ETag!.ToString(), get.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task With_a_password_the_user_is_active_and_only_an_argon2id_hash_is_stored()
    {
        var tenant = await app.CreateTenantAsync();
        var response = await PostAsync(tenant, new { email = NewEmail(), password = ValidPassword });
        var raw = await response.Content.ReadAsStringAsync();
        var data = (await response.ReadJsonAsync(201))["data"]!;

        Assert.Equal("ACTIVE", data["status"]!.GetValue<string>());
        Assert.NotNull(data["password_changed_at"]);
        Assert.True(DateTime.TryParse(data["password_changed_at"]!.GetValue<string>(), out _));
        Assert.DoesNotContain(ValidPassword, raw, StringComparison.Ordinal);
        Assert.Null(data["password"]);
        Assert.Null(data["password_hash"]);

        var id = data["id"]!.GetValue<string>();
        var hash = await app.DbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.PasswordHash).SingleAsync());
        Assert.NotNull(hash);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain(ValidPassword, hash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_password_the_user_is_pending_and_gets_an_invitation_with_a_hashed_single_use_token()
    {
        var tenant = await app.CreateTenantAsync();
        var email = NewEmail("invitee");
        var data = (await (await PostAsync(tenant, new { email })).ReadJsonAsync(201))["data"]!;
        var id = data["id"]!.GetValue<string>();

        Assert.Equal("PENDING_EMAIL_VERIFICATION", data["status"]!.GetValue<string>());
        Assert.Null(data["password_changed_at"]);

        var messages = await app.DbAsync(db => db.EmailOutbox.Where(m => m.ToAddress == email).ToListAsync());
        var message = Assert.Single(messages);
        Assert.Equal("invitation", message.Kind);
        var match = Regex.Match(app.OutboxBody(message), @"https?://\S*[?&]token=([A-Za-z0-9%_\-.~]+)");
        Assert.True(match.Success, $"no link with a token in the invitation:\n{app.OutboxBody(message)}");
        var token = Uri.UnescapeDataString(match.Groups[1].Value);
        Assert.True(token.Length >= 20, $"token '{token}' is too short to be unguessable");

        var tokens = await app.DbAsync(db => db.UserActionTokens.Where(t => t.UserId == id).ToListAsync());
        var stored = Assert.Single(tokens);
        Assert.Equal("INVITATION", stored.Purpose);
        Assert.Equal(tenant, stored.TenantId);
        Assert.NotEqual(token, stored.TokenHash);
        Assert.DoesNotContain(token, stored.TokenHash, StringComparison.Ordinal);
        Assert.Null(stored.UsedAt);
        Assert.True(stored.ExpiresAt > DateTime.UtcNow, "the invitation must not be expired already");
    }

    [Fact]
    public async Task Without_a_password_and_send_welcome_email_false_no_email_is_queued()
    {
        var tenant = await app.CreateTenantAsync();
        var email = NewEmail("quiet");
        var data = (await (await PostAsync(tenant, new { email, send_welcome_email = false })).ReadJsonAsync(201))["data"]!;

        Assert.Equal("PENDING_EMAIL_VERIFICATION", data["status"]!.GetValue<string>());
        Assert.Equal(0, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == email)));
    }

    [Fact]
    public async Task A_tenant_that_requires_approval_creates_pending_approval_users()
    {
        var tenant = await app.CreateTenantAsync(settings: new { require_approval = true });

        var withPassword = await app.CreateUserAsync(tenant, new { email = NewEmail(), password = ValidPassword });
        Assert.Equal("PENDING_APPROVAL", withPassword["status"]!.GetValue<string>());

        var withoutPassword = await app.CreateUserAsync(tenant, new { email = NewEmail(), send_welcome_email = false });
        Assert.Equal("PENDING_APPROVAL", withoutPassword["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ou_and_groups_of_the_same_tenant_are_applied()
    {
        var tenant = await app.CreateTenantAsync();
        var ou = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Sales" });
        var engineers = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Engineers" });
        var pilots = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Pilots" });

        var data = await app.CreateUserAsync(tenant, new { email = NewEmail(), password = ValidPassword, ou_id = ou, group_ids = new[] { engineers, pilots } });

        Assert.Equal(ou, data["ou_id"]!.GetValue<string>());
        Assert.Equal("/Sales", data["ou_path"]!.GetValue<string>());
        var groups = data["groups"]!.AsArray()
            .Select(g => (Id: g!["group_id"]!.GetValue<string>(), Name: g["name"]!.GetValue<string>(), Type: g["membership_type"]!.GetValue<string>()))
            .OrderBy(g => g.Name, StringComparer.Ordinal)
            .ToList();
        Assert.Equal([(engineers, "Engineers", "DIRECT"), (pilots, "Pilots", "DIRECT")], groups);
    }

    [Fact]
    public async Task An_ou_id_from_another_tenant_or_unknown_is_422_on_body_ou_id()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var foreignOu = await app.CreateAsync($"/api/v1/tenants/{other}/ous", new { name = "Elsewhere" });

        foreach (var ouId in new[] { foreignOu, "no-such-ou" })
        {
            var response = await PostAsync(tenant, new { email = NewEmail(), password = ValidPassword, ou_id = ouId });
            var json = await response.ReadJsonAsync(422);
            var error = Assert.Single(json["detail"]!.AsArray());
            Assert.Equal(["body", "ou_id"], error!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
        }

        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task Group_ids_from_another_tenant_or_unknown_are_422_at_their_index()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync();
        var own = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Own" });
        var foreign = await app.CreateAsync($"/api/v1/tenants/{other}/groups", new { name = "Foreign" });

        var response = await PostAsync(tenant, new { email = NewEmail(), password = ValidPassword, group_ids = new[] { own, foreign, "no-such-group" } });
        var json = await response.ReadJsonAsync(422);
        var locs = json["detail"]!.AsArray().Select(e => e!["loc"]!.AsArray()).ToList();

        Assert.Equal(2, locs.Count);
        foreach (var loc in locs)
        {
            Assert.Equal("body", loc[0]!.GetValue<string>());
            Assert.Equal("group_ids", loc[1]!.GetValue<string>());
            Assert.Equal(JsonValueKind.Number, loc[2]!.GetValueKind());
        }

        Assert.Equal([1, 2], locs.Select(l => l[2]!.GetValue<int>()).Order());
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task Every_failing_field_is_listed_at_once()
    {
        var tenant = await app.CreateTenantAsync();
        var response = await PostRawAsync(tenant, HttpAssertions.Json(
            """{"email": "not-an-email", "locale": null, "timezone": "Mars/Base", "phone": "123", "status": "ACTIVE"}"""));
        var errors = await response.ReadValidationErrorsAsync();

        Assert.Contains("body.email|value_error", errors);
        Assert.Contains("body.locale|string_type", errors);
        Assert.Contains("body.timezone|value_error", errors);
        Assert.Contains("body.phone|value_error", errors);
        Assert.Contains("body.status|extra_forbidden", errors);
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Theory]
    [InlineData("id", "\"01900000-0000-7000-8000-000000000000\"")]
    [InlineData("tenant_id", "\"some-other-tenant\"")]
    [InlineData("password_hash", "\"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g\"")]
    [InlineData("mfa_enabled", "true")]
    [InlineData("status", "\"ACTIVE\"")]
    public async Task Server_owned_fields_cannot_be_mass_assigned(string field, string rawValue)
    {
        var tenant = await app.CreateTenantAsync();
        var email = NewEmail();
        var response = await PostRawAsync(tenant, HttpAssertions.Json($$"""{"email": "{{email}}", "{{field}}": {{rawValue}}}"""));
        var errors = await response.ReadValidationErrorsAsync();

        Assert.Equal([$"body.{field}|extra_forbidden"], errors);
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task Missing_email_is_field_required()
    {
        var tenant = await app.CreateTenantAsync();
        var json = await (await PostAsync(tenant, new { first_name = "Nobody" })).ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray());

        Assert.Equal(["body", "email"], error!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal("missing", error["type"]!.GetValue<string>());
        Assert.Equal("Field required", error["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_empty_body_is_422_missing_body()
    {
        var tenant = await app.CreateTenantAsync();
        var json = await (await PostRawAsync(tenant, HttpAssertions.Json(""))).ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray());

        Assert.Equal(["body"], error!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal("missing", error["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Malformed_json_is_json_invalid_with_a_character_offset()
    {
        var tenant = await app.CreateTenantAsync();
        const string body = """{"email": """;
        var json = await (await PostRawAsync(tenant, HttpAssertions.Json(body))).ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray());
        var loc = error!["loc"]!.AsArray();

        Assert.Equal(2, loc.Count);
        Assert.Equal("body", loc[0]!.GetValue<string>());
        Assert.Equal(JsonValueKind.Number, loc[1]!.GetValueKind());
        Assert.Equal(10, loc[1]!.GetValue<int>()); // Python's json: "Expecting value: line 1 column 11 (char 10)"
        Assert.Equal("json_invalid", error["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_json_invalid_offset_counts_characters_not_bytes_across_lines()
    {
        var tenant = await app.CreateTenantAsync();
        const string body = "{\n  \"first_name\": \"Zo\u00eb \u00c5ngstr\u00f6m\",\n  \"email\": }";
        var json = await (await PostRawAsync(tenant, HttpAssertions.Json(body))).ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray());
        var loc = error!["loc"]!.AsArray();

        Assert.Equal("json_invalid", error["type"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.Number, loc[1]!.GetValueKind());
        Assert.Equal(body.IndexOf('}', StringComparison.Ordinal), loc[1]!.GetValue<int>()); // 45, as Python's json reports it
    }

    [Fact]
    public async Task A_top_level_array_is_422()
    {
        var tenant = await app.CreateTenantAsync();
        var json = await (await PostRawAsync(tenant, HttpAssertions.Json($$"""[{"email": "{{NewEmail()}}"}]"""))).ReadJsonAsync(422);

        Assert.NotEmpty(json["detail"]!.AsArray());
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task Wrong_types_are_reported_with_pydantic_error_types()
    {
        var tenant = await app.CreateTenantAsync();
        var response = await PostRawAsync(tenant, HttpAssertions.Json(
            $$"""{"email": "{{NewEmail()}}", "group_ids": "x", "require_password_change": "yes", "custom_attributes": []}"""));
        var errors = await response.ReadValidationErrorsAsync();

        Assert.Contains("body.group_ids|list_type", errors);
        Assert.Contains("body.require_password_change|bool_type", errors);
        Assert.Contains("body.custom_attributes|dict_type", errors);
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public async Task Custom_attributes_over_16_KiB_are_422_and_smaller_ones_are_kept()
    {
        var tenant = await app.CreateTenantAsync();

        var tooBig = await PostAsync(tenant, new { email = NewEmail(), custom_attributes = new { blob = new string('x', 17 * 1024) } });
        var errors = await tooBig.ReadValidationErrorsAsync();
        Assert.Contains(errors, e => e.StartsWith("body.custom_attributes|", StringComparison.Ordinal));
        Assert.Equal(0, await CountUsersAsync(tenant));

        var fine = await app.CreateUserAsync(tenant, new { email = NewEmail(), custom_attributes = new { employee_no = 42, blob = new string('y', 8 * 1024) } });
        Assert.Equal(42, fine["custom_attributes"]!["employee_no"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("short@example.com", "Qz-Lant-93!")] // 11 characters
    [InlineData("common1@example.com", "password1234")]
    [InlineData("common2@example.com", "qwertyuiop123")]
    [InlineData("common3@example.com", "PASSWORD1234")] // the common list is matched case-insensitively
    [InlineData("margaret.hamilton@example.com", "Margaret.Hamilton-2024!")]
    [InlineData("margaret.hamilton@example.com", "xx-MARGARET.HAMILTON-xx")]
    public async Task Passwords_breaking_the_default_policy_are_422_on_body_password(string email, string password)
    {
        var tenant = await app.CreateTenantAsync();
        var response = await PostAsync(tenant, new { email, password });
        var raw = await response.Content.ReadAsStringAsync();
        var errors = await response.ReadValidationErrorsAsync();

        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Equal("body.password|value_error", e));
        Assert.DoesNotContain(password, raw, StringComparison.Ordinal);
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task A_tenant_password_policy_min_length_of_16_is_enforced()
    {
        var tenant = await app.CreateTenantAsync(settings: new { password_policy = new { min_length = 16 } });

        var fifteen = await PostAsync(tenant, new { email = NewEmail(), password = "Quartz-Lantern9" });
        Assert.Equal(["body.password|value_error"], await fifteen.ReadValidationErrorsAsync());

        var sixteen = await app.CreateUserAsync(tenant, new { email = NewEmail(), password = "Quartz-Lantern93" });
        Assert.Equal("ACTIVE", sixteen["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_duplicate_email_in_another_case_is_409()
    {
        var tenant = await app.CreateTenantAsync();
        var local = "Grace.Hopper." + Guid.NewGuid().ToString("N")[..8];
        await app.CreateUserAsync(tenant, new { email = $"{local}@example.com", password = ValidPassword });

        var response = await PostAsync(tenant, new { email = $"{local.ToUpperInvariant()}@EXAMPLE.COM", password = ValidPassword });
        await response.ReadProblemAsync(409);
        Assert.Equal(1, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task A_duplicate_username_in_another_case_is_409()
    {
        var tenant = await app.CreateTenantAsync();
        await app.CreateUserAsync(tenant, new { email = NewEmail(), username = "gracehopper", password = ValidPassword });

        var response = await PostAsync(tenant, new { email = NewEmail(), username = "GraceHopper", password = ValidPassword });
        await response.ReadProblemAsync(409);
        Assert.Equal(1, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task The_same_email_in_another_tenant_is_allowed()
    {
        var first = await app.CreateTenantAsync();
        var second = await app.CreateTenantAsync();
        var email = NewEmail("shared");

        var a = await app.CreateUserAsync(first, new { email, username = "shared-name", password = ValidPassword });
        var b = await app.CreateUserAsync(second, new { email, username = "shared-name", password = ValidPassword });

        Assert.NotEqual(a["id"]!.GetValue<string>(), b["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_creates_with_the_same_email_give_exactly_one_201_and_one_409()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        for (var round = 0; round < 5; round++)
        {
            var email = NewEmail("race");
            var responses = await Task.WhenAll(
                admin.PostAsJsonAsync(UsersPath(tenant), new { email, password = ValidPassword }),
                admin.PostAsJsonAsync(UsersPath(tenant), new { email, password = ValidPassword }));

            var statuses = responses.Select(r => (int)r.StatusCode).Order().ToList();
            var bodies = string.Join("\n", await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync())));
            Assert.True(statuses.SequenceEqual([201, 409]), $"round {round}: got {string.Join(", ", statuses)}\n{bodies}");
            await responses.Single(r => r.StatusCode == HttpStatusCode.Conflict).ReadProblemAsync(409);

            var normalized = email.ToLowerInvariant();
            Assert.Equal(1, await app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == tenant && u.EmailNormalized == normalized)));
        }
    }

    [Fact]
    public async Task A_body_over_1_MiB_is_413_problem()
    {
        var tenant = await app.CreateTenantAsync();
        var body = $$"""{"email": "{{NewEmail()}}", "first_name": "{{new string('a', (1024 * 1024) + 16)}}"}""";
        var response = await PostRawAsync(tenant, HttpAssertions.Json(body));

        await response.ReadProblemAsync(413);
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task A_streamed_body_over_1_MiB_without_content_length_is_413_problem()
    {
        var tenant = await app.CreateTenantAsync();
        var body = $$"""{"email": "{{NewEmail()}}", "first_name": "{{new string('a', (1024 * 1024) + 16)}}"}""";
        using var content = new UnsizedContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new("application/json");
        var response = await PostRawAsync(tenant, content);

        await response.ReadProblemAsync(413);
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task A_text_plain_body_is_415_problem()
    {
        var tenant = await app.CreateTenantAsync();
        var content = new StringContent($$"""{"email": "{{NewEmail()}}"}""", Encoding.UTF8, "text/plain");
        var response = await PostRawAsync(tenant, content);

        await response.ReadProblemAsync(415);
        Assert.Equal(0, await CountUsersAsync(tenant));
    }

    [Fact]
    public async Task Create_writes_one_user_created_audit_event_with_field_names_and_the_request_id()
    {
        var tenant = await app.CreateTenantAsync();
        var requestId = "create-" + Guid.NewGuid().ToString("N");
        using var admin = await app.AdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, UsersPath(tenant))
        {
            Content = HttpAssertions.Json(new { email = NewEmail(), first_name = "Audited", password = ValidPassword }),
        };
        request.Headers.Add("X-Request-ID", requestId);
        var response = await admin.SendAsync(request);
        var created = await response.ReadJsonAsync(201);
        var id = created["data"]!["id"]!.GetValue<string>();
        Assert.Equal(requestId, created["meta"]!["request_id"]!.GetValue<string>());
        Assert.Equal(requestId, response.Headers.GetValues("X-Request-ID").Single());

        var auditResponse = await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={id}");
        var raw = await auditResponse.Content.ReadAsStringAsync();
        var audit = await auditResponse.ReadJsonAsync(200);
        Assert.DoesNotContain(ValidPassword, raw, StringComparison.Ordinal);

        var evt = Assert.Single(audit["data"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "user.created");
        Assert.Equal(id, evt!["target_id"]!.GetValue<string>());
        Assert.Equal(requestId, evt["request_id"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(evt["actor_id"]?.GetValue<string>()));
        var changes = evt["changes"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Contains("email", changes);
        Assert.Contains("password", changes);
        Assert.Contains("first_name", changes);

        // Exactly one event for this user, also in the database.
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == id && e.Action == "user.created")));
        var stored = await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == id).Select(e => e.ChangesJson).SingleAsync());
        Assert.DoesNotContain(ValidPassword, stored ?? string.Empty, StringComparison.Ordinal);
    }

    /// <summary>A body whose length is not known up front, so it goes without Content-Length.</summary>
    private sealed class UnsizedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
