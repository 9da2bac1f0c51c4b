using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>PATCH /api/v1/tenants/{tenant_id}/users/{user_id}: partial updates, safe writes and their audit trail.</summary>
public sealed class UserUpdateTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string ValidPassword = "Quartz-Lantern-93!";

    private static string NewEmail(string prefix = "u") => $"{prefix}{Guid.NewGuid():N}@example.com";

    private static string UserPath(string tenantId, string userId) => $"/api/v1/tenants/{tenantId}/users/{userId}";

    private async Task<HttpResponseMessage> PatchAsync(string tenantId, string userId, HttpContent body, string? ifMatch = null)
    {
        using var admin = await app.AdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Patch, UserPath(tenantId, userId)) { Content = body };
        if (ifMatch is not null)
        {
            Assert.True(request.Headers.TryAddWithoutValidation("If-Match", ifMatch));
        }

        return await admin.SendAsync(request);
    }

    private Task<HttpResponseMessage> PatchAsync(string tenantId, string userId, object body, string? ifMatch = null) =>
        PatchAsync(tenantId, userId, HttpAssertions.Json(body), ifMatch);

    private async Task<(JsonNode Data, string ETag)> GetAsync(string tenantId, string userId)
    {
        using var admin = await app.AdminAsync();
        var response = await admin.GetAsync(UserPath(tenantId, userId));
        var json = await response.ReadJsonAsync(200);
        Assert.NotNull(response.Headers.ETag);
        return (json["data"]!, response.Headers.ETag!.ToString());
    }

    private async Task<List<JsonNode>> AuditEventsAsync(string tenantId, string userId, string action)
    {
        using var admin = await app.AdminAsync();
        var json = await (await admin.GetAsync($"/api/v1/tenants/{tenantId}/audit-events?target_id={userId}&action={action}")).ReadJsonAsync(200);
        return json["data"]!.AsArray().Select(e => e!).Where(e => e["action"]!.GetValue<string>() == action).ToList();
    }

    private async Task<(string Tenant, string UserId)> NewUserAsync(object? body = null)
    {
        var tenant = await app.CreateTenantAsync();
        var user = await app.CreateUserAsync(tenant, body ?? new
        {
            email = NewEmail(),
            first_name = "Ada",
            last_name = "Lovelace",
            display_name = "Ada L.",
            phone = "+14155550123",
            password = ValidPassword,
        });
        return (tenant, user["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patch_changes_the_sent_fields_bumps_the_etag_and_sets_updated_at()
    {
        var (tenant, id) = await NewUserAsync();
        var (before, etag) = await GetAsync(tenant, id);
        Assert.Null(before["updated_at"]);

        var response = await PatchAsync(tenant, id, new { first_name = "Augusta", display_name = "Countess", timezone = "Europe/London", locale = "en-GB" });
        var data = (await response.ReadJsonAsync(200))["data"]!;

        Assert.Equal("Augusta", data["first_name"]!.GetValue<string>());
        Assert.Equal("Countess", data["display_name"]!.GetValue<string>());
        Assert.Equal("Europe/London", data["timezone"]!.GetValue<string>());
        Assert.Equal("en-GB", data["locale"]!.GetValue<string>());
        Assert.Equal("Lovelace", data["last_name"]!.GetValue<string>());
        Assert.Equal("+14155550123", data["phone"]!.GetValue<string>());
        Assert.NotNull(data["updated_at"]);
        Assert.True(DateTime.TryParse(data["updated_at"]!.GetValue<string>(), out _));
        Assert.NotNull(response.Headers.ETag);
        Assert.NotEqual(etag, response.Headers.ETag!.ToString());

        var (after, afterEtag) = await GetAsync(tenant, id);
        Assert.Equal("Augusta", after["first_name"]!.GetValue<string>());
        Assert.Equal(response.Headers.ETag!.ToString(), afterEtag);
    }

    [Fact]
    public async Task Null_clears_a_nullable_field_and_absent_fields_are_untouched()
    {
        var (tenant, id) = await NewUserAsync();

        var data = (await (await PatchAsync(tenant, id, HttpAssertions.Json("""{"first_name": null, "phone": null}"""))).ReadJsonAsync(200))["data"]!;

        Assert.Null(data["first_name"]);
        Assert.Null(data["phone"]);
        Assert.Equal("Lovelace", data["last_name"]!.GetValue<string>());
        Assert.Equal("Ada L.", data["display_name"]!.GetValue<string>());
        var (stored, _) = await GetAsync(tenant, id);
        Assert.Null(stored["first_name"]);
        Assert.Equal("Lovelace", stored["last_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Custom_attributes_are_replaced_and_null_clears_them()
    {
        var (tenant, id) = await NewUserAsync(new { email = NewEmail(), custom_attributes = new { team = "blue", level = 3 }, password = ValidPassword });

        var replaced = (await (await PatchAsync(tenant, id, new { custom_attributes = new { team = "red" } })).ReadJsonAsync(200))["data"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"team": "red"}"""), replaced["custom_attributes"]), replaced["custom_attributes"]?.ToJsonString());

        var cleared = (await (await PatchAsync(tenant, id, HttpAssertions.Json("""{"custom_attributes": null}"""))).ReadJsonAsync(200))["data"]!;
        Assert.Null(cleared["custom_attributes"]);
    }

    [Fact]
    public async Task Every_failing_field_of_a_patch_is_listed_at_once_and_nothing_changes()
    {
        var (tenant, id) = await NewUserAsync();
        var (before, etag) = await GetAsync(tenant, id);

        var response = await PatchAsync(tenant, id, HttpAssertions.Json(
            """{"first_name": "Changed", "email": "not-an-email", "phone": "123", "timezone": "Mars/Base", "locale": 42, "custom_attributes": []}"""));
        var errors = await response.ReadValidationErrorsAsync();

        Assert.Contains("body.email|value_error", errors);
        Assert.Contains("body.phone|value_error", errors);
        Assert.Contains("body.timezone|value_error", errors);
        Assert.Contains("body.locale|string_type", errors);
        Assert.Contains("body.custom_attributes|dict_type", errors);
        Assert.Equal(5, errors.Count);
        var (after, afterEtag) = await GetAsync(tenant, id);
        Assert.True(JsonNode.DeepEquals(before, after));
        Assert.Equal(etag, afterEtag);
    }

    [Fact]
    public async Task Locale_and_timezone_null_are_ignored_not_cleared()
    {
        var (tenant, id) = await NewUserAsync(new { email = NewEmail(), locale = "fr-FR", timezone = "Europe/Paris", password = ValidPassword });

        var data = (await (await PatchAsync(tenant, id, HttpAssertions.Json("""{"locale": null, "timezone": null, "last_name": "Curie"}"""))).ReadJsonAsync(200))["data"]!;

        Assert.Equal("fr-FR", data["locale"]!.GetValue<string>());
        Assert.Equal("Europe/Paris", data["timezone"]!.GetValue<string>());
        Assert.Equal("Curie", data["last_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task If_match_with_the_current_etag_succeeds()
    {
        var (tenant, id) = await NewUserAsync();
        var (_, etag) = await GetAsync(tenant, id);

        var data = (await (await PatchAsync(tenant, id, new { first_name = "Matched" }, etag)).ReadJsonAsync(200))["data"]!;
        Assert.Equal("Matched", data["first_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task If_match_with_a_stale_etag_is_412_and_changes_nothing()
    {
        var (tenant, id) = await NewUserAsync();
        var (_, stale) = await GetAsync(tenant, id);
        await (await PatchAsync(tenant, id, new { first_name = "Intervening" })).ShouldBeAsync(200);
        var (_, current) = await GetAsync(tenant, id);

        var response = await PatchAsync(tenant, id, new { first_name = "Lost", last_name = "Update" }, stale);
        await response.ReadProblemAsync(412);

        var (data, etag) = await GetAsync(tenant, id);
        Assert.Equal("Intervening", data["first_name"]!.GetValue<string>());
        Assert.Equal("Lovelace", data["last_name"]!.GetValue<string>());
        Assert.Equal(current, etag);
    }

    [Fact]
    public async Task If_match_star_succeeds()
    {
        var (tenant, id) = await NewUserAsync();

        var data = (await (await PatchAsync(tenant, id, new { first_name = "Starred" }, "*")).ReadJsonAsync(200))["data"]!;
        Assert.Equal("Starred", data["first_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_patches_with_the_same_if_match_let_exactly_one_win()
    {
        var (tenant, id) = await NewUserAsync();
        for (var round = 0; round < 5; round++)
        {
            var (_, etag) = await GetAsync(tenant, id);
            var responses = await Task.WhenAll(
                PatchAsync(tenant, id, new { first_name = $"Left{round}" }, etag),
                PatchAsync(tenant, id, new { first_name = $"Right{round}" }, etag));

            var statuses = responses.Select(r => (int)r.StatusCode).Order().ToList();
            var bodies = string.Join("\n", await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync())));
            Assert.True(statuses.SequenceEqual([200, 412]), $"round {round}: got {string.Join(", ", statuses)}\n{bodies}");

            var winner = responses.Single(r => (int)r.StatusCode == 200);
            var winnerName = (await winner.ReadJsonAsync(200))["data"]!["first_name"]!.GetValue<string>();
            var (stored, storedEtag) = await GetAsync(tenant, id);
            Assert.Equal(winnerName, stored["first_name"]!.GetValue<string>());
            Assert.Equal(winner.Headers.ETag!.ToString(), storedEtag);
        }
    }

    [Theory]
    [InlineData("status", "\"DISABLED\"")]
    [InlineData("id", "\"01900000-0000-7000-8000-000000000000\"")]
    [InlineData("tenant_id", "\"another-tenant\"")]
    [InlineData("password", "\"Another-Secret-Pass-77!\"")]
    [InlineData("mfa_enabled", "true")]
    [InlineData("email_verified", "true")]
    [InlineData("nickname", "\"Ada\"")]
    public async Task Unknown_and_server_owned_fields_are_extra_forbidden_and_change_nothing(string field, string rawValue)
    {
        var (tenant, id) = await NewUserAsync();
        var (before, etag) = await GetAsync(tenant, id);

        var response = await PatchAsync(tenant, id, HttpAssertions.Json($$"""{"first_name": "Changed", "{{field}}": {{rawValue}}}"""));
        Assert.Equal([$"body.{field}|extra_forbidden"], await response.ReadValidationErrorsAsync());

        var (after, afterEtag) = await GetAsync(tenant, id);
        Assert.True(JsonNode.DeepEquals(before, after), $"user changed:\n{before.ToJsonString()}\n{after.ToJsonString()}");
        Assert.Equal(etag, afterEtag);
        var hash = await app.DbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.PasswordHash).SingleAsync());
        Assert.DoesNotContain("Another-Secret", hash ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changing_the_email_to_another_users_email_in_any_case_is_409()
    {
        var tenant = await app.CreateTenantAsync();
        var takenLocal = "Taken." + Guid.NewGuid().ToString("N")[..8];
        await app.CreateUserAsync(tenant, new { email = $"{takenLocal}@example.com", password = ValidPassword });
        var ownEmail = NewEmail("own");
        var id = (await app.CreateUserAsync(tenant, new { email = ownEmail, password = ValidPassword }))["id"]!.GetValue<string>();

        foreach (var email in new[] { $"{takenLocal}@example.com", $"{takenLocal.ToUpperInvariant()}@EXAMPLE.COM", $"{takenLocal.ToLowerInvariant()}@Example.com" })
        {
            await (await PatchAsync(tenant, id, new { email })).ReadProblemAsync(409);
        }

        var (data, _) = await GetAsync(tenant, id);
        Assert.Equal(ownEmail, data["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task Changing_the_username_to_another_users_username_in_any_case_is_409()
    {
        var tenant = await app.CreateTenantAsync();
        await app.CreateUserAsync(tenant, new { email = NewEmail(), username = "ada.lovelace", password = ValidPassword });
        var id = (await app.CreateUserAsync(tenant, new { email = NewEmail(), username = "charles", password = ValidPassword }))["id"]!.GetValue<string>();

        await (await PatchAsync(tenant, id, new { username = "Ada.Lovelace" })).ReadProblemAsync(409);

        var (data, _) = await GetAsync(tenant, id);
        Assert.Equal("charles", data["username"]!.GetValue<string>());
    }

    [Fact]
    public async Task Changing_the_case_of_the_users_own_email_is_not_a_conflict()
    {
        var tenant = await app.CreateTenantAsync();
        var local = "self." + Guid.NewGuid().ToString("N")[..8];
        var id = (await app.CreateUserAsync(tenant, new { email = $"{local}@example.com", password = ValidPassword }))["id"]!.GetValue<string>();

        var data = (await (await PatchAsync(tenant, id, new { email = $"Self.{local[5..]}@example.com" })).ReadJsonAsync(200))["data"]!;
        Assert.Equal($"Self.{local[5..]}@example.com", data["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task Changing_the_email_to_a_free_address_works()
    {
        var (tenant, id) = await NewUserAsync();
        var local = "Renamed." + Guid.NewGuid().ToString("N")[..8];

        var data = (await (await PatchAsync(tenant, id, new { email = $"{local}@Example.ORG" })).ReadJsonAsync(200))["data"]!;
        Assert.Equal($"{local}@example.org", data["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_or_foreign_ou_id_is_422_on_body_ou_id()
    {
        var (tenant, id) = await NewUserAsync();
        var other = await app.CreateTenantAsync();
        var foreignOu = await app.CreateAsync($"/api/v1/tenants/{other}/ous", new { name = "Foreign" });
        var (_, etag) = await GetAsync(tenant, id);

        foreach (var ouId in new[] { "no-such-ou", foreignOu })
        {
            var response = await PatchAsync(tenant, id, new { ou_id = ouId, first_name = "Changed" });
            Assert.Equal(["body.ou_id|value_error"], await response.ReadValidationErrorsAsync());
        }

        var (data, afterEtag) = await GetAsync(tenant, id);
        Assert.Null(data["ou_id"]);
        Assert.Equal("Ada", data["first_name"]!.GetValue<string>());
        Assert.Equal(etag, afterEtag);
    }

    [Fact]
    public async Task Ou_id_sets_the_ou_and_null_removes_it()
    {
        var (tenant, id) = await NewUserAsync();
        var ou = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Research" });

        var placed = (await (await PatchAsync(tenant, id, new { ou_id = ou })).ReadJsonAsync(200))["data"]!;
        Assert.Equal(ou, placed["ou_id"]!.GetValue<string>());
        Assert.Equal("/Research", placed["ou_path"]!.GetValue<string>());

        var removed = (await (await PatchAsync(tenant, id, HttpAssertions.Json("""{"ou_id": null}"""))).ReadJsonAsync(200))["data"]!;
        Assert.Null(removed["ou_id"]);
        Assert.Null(removed["ou_path"]);
    }

    [Fact]
    public async Task The_user_updated_audit_event_lists_exactly_the_changed_fields()
    {
        var (tenant, id) = await NewUserAsync();

        // last_name is sent with its current value, so it is not a change.
        await (await PatchAsync(tenant, id, new { first_name = "Augusta", last_name = "Lovelace", phone = "+442071234567" })).ShouldBeAsync(200);

        var evt = Assert.Single(await AuditEventsAsync(tenant, id, "user.updated"));
        var changes = evt["changes"]!.AsArray().Select(c => c!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["first_name", "phone"], changes);
        Assert.Equal(id, evt["target_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_patch_that_changes_nothing_writes_no_audit_event_and_keeps_the_etag()
    {
        var (tenant, id) = await NewUserAsync();
        var (before, etag) = await GetAsync(tenant, id);

        var response = await PatchAsync(tenant, id, new { first_name = "Ada", last_name = "Lovelace" });
        var data = (await response.ReadJsonAsync(200))["data"]!;

        Assert.Equal(etag, response.Headers.ETag?.ToString());
        Assert.True(JsonNode.DeepEquals(before, data), $"user changed:\n{before.ToJsonString()}\n{data.ToJsonString()}");
        Assert.Empty(await AuditEventsAsync(tenant, id, "user.updated"));

        // An empty object is no change either.
        var empty = await PatchAsync(tenant, id, HttpAssertions.Json("{}"));
        await empty.ShouldBeAsync(200);
        Assert.Equal(etag, empty.Headers.ETag?.ToString());
        Assert.Empty(await AuditEventsAsync(tenant, id, "user.updated"));
    }

    [Fact]
    public async Task A_user_of_another_tenant_is_404_through_this_tenants_route()
    {
        var (otherTenant, otherUser) = await NewUserAsync();
        var tenant = await app.CreateTenantAsync();

        await (await PatchAsync(tenant, otherUser, new { first_name = "Hijacked" })).ReadProblemAsync(404);

        var (data, _) = await GetAsync(otherTenant, otherUser);
        Assert.Equal("Ada", data["first_name"]!.GetValue<string>());
        Assert.Empty(await AuditEventsAsync(otherTenant, otherUser, "user.updated"));
    }

    [Fact]
    public async Task An_unknown_user_is_404()
    {
        var tenant = await app.CreateTenantAsync();
        await (await PatchAsync(tenant, Guid.NewGuid().ToString(), new { first_name = "Ghost" })).ReadProblemAsync(404);
    }
}
