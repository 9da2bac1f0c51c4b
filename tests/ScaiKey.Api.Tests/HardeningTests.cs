using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>Inputs and races found in review that once produced a 500, a hang or a leak.</summary>
public sealed class HardeningTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Theory]
    [InlineData("""{"email": "\ud800@example.com"}""")]
    [InlineData("""{"email": "ok@example.com", "x\udc00": 1}""")]
    public async Task Undecodable_strings_are_422_json_invalid(string body)
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var errors = await (await admin.PostAsync($"/api/v1/tenants/{tenant}/users", HttpAssertions.Json(body))).ReadValidationErrorsAsync();
        Assert.Equal(["body|json_invalid"], errors);
    }

    [Fact]
    public async Task Duplicate_keys_inside_custom_attributes_are_422_not_stored()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var errors = await (await admin.PostAsync($"/api/v1/tenants/{tenant}/users",
            HttpAssertions.Json("""{"email": "dup@example.com", "custom_attributes": {"a": 1, "b": {"c": 1, "c": 2}}}"""))).ReadValidationErrorsAsync();
        Assert.Equal(["body.custom_attributes|value_error"], errors);
    }

    [Fact]
    public async Task Nul_characters_are_refused_in_bodies_and_queries()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var errors = await (await admin.PostAsync($"/api/v1/tenants/{tenant}/users",
            HttpAssertions.Json("""{"email": "nul@example.com", "first_name": "a\u0000b", "group_ids": ["\u0000"], "custom_attributes": {"k": "\u0000"}}"""))).ReadValidationErrorsAsync();
        Assert.Contains("body.first_name|value_error", errors);
        Assert.Contains("body.group_ids.0|value_error", errors);
        Assert.Contains("body.custom_attributes|value_error", errors);
        Assert.Equal(["query.search|value_error"], await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?search=%00")).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task A_repeated_query_parameter_takes_its_last_value()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var json = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?per_page=500&per_page=5")).ReadJsonAsync(200);
        Assert.Equal(5, json["pagination"]!["per_page"]!.GetValue<int>());
    }

    [Fact]
    public async Task Paths_longer_than_the_index_allows_are_422_on_both_providers()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        string? parent = null;
        HttpResponseMessage response;
        var depth = 0;
        do
        {
            response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/ous", new { name = new string((char)('a' + depth % 26), 200), parent_id = parent });
            if ((int)response.StatusCode == 201)
            {
                parent = (await response.ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
            }

            depth++;
        }
        while ((int)response.StatusCode == 201 && depth < 30);
        Assert.Equal(["body.name|value_error"], await response.ReadValidationErrorsAsync());
        Assert.InRange(depth, 9, 11); // about 2000 bytes of path
    }

    [Fact]
    public async Task Concurrent_opposite_moves_never_leave_a_loop()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        for (var round = 0; round < 5; round++)
        {
            var a = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = $"A{round}" });
            var b = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = $"B{round}" });
            var moves = await Task.WhenAll(
                admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{a}", new { parent_id = b }),
                admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{b}", new { parent_id = a }));
            Assert.Contains(moves, m => (int)m.StatusCode == 200);
            Assert.Contains(moves, m => (int)m.StatusCode == 422);

            var parents = await app.DbAsync(db => db.OrganizationalUnits.AsNoTracking().Where(o => o.Id == a || o.Id == b).ToDictionaryAsync(o => o.Id, o => o.ParentId));
            Assert.False(parents[a] == b && parents[b] == a, "the two OUs became each other's parent");
            await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/ous/{a}", new { name = $"A{round}-renamed" })).ShouldBeAsync(200);
        }
    }

    [Theory]
    [InlineData(40, 256, 40)]
    [InlineData(8, 12, 12)]
    public async Task Temporary_passwords_follow_the_tenant_policy(int min, int max, int expectedLength)
    {
        var tenant = await app.CreateTenantAsync(settings: new { password_policy = new { min_length = min, max_length = max } });
        var user = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();
        var json = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/password/reset", new { method = "TEMPORARY" })).ReadJsonAsync(200);
        Assert.Equal(expectedLength, json["data"]!["temporary_password"]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task Queued_emails_are_sealed_at_rest_and_api_responses_are_not_cached()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users", new { email = "sealed@example.com" });
        await response.ShouldBeAsync(201);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var message = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == "sealed@example.com"));
        Assert.DoesNotContain("token=", message.Body);
        Assert.Contains("token=", app.OutboxBody(message));
    }
}
