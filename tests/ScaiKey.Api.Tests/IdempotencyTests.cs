using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>Idempotency-Key on POST /api/v1/tenants/{tenant_id}/users: a retried create never makes a second user.</summary>
public sealed class IdempotencyTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string ValidPassword = "Quartz-Lantern-93!";

    private static string NewEmail() => $"idem{Guid.NewGuid():N}@example.com";

    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    private static string UsersPath(string tenantId) => $"/api/v1/tenants/{tenantId}/users";

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string tenantId, object body, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, UsersPath(tenantId)) { Content = HttpAssertions.Json(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await client.SendAsync(request);
    }

    private async Task<int> ListTotalAsync(HttpClient client, string tenantId)
    {
        var list = await (await client.GetAsync(UsersPath(tenantId))).ReadJsonAsync(200);
        var total = list["pagination"]!["total_items"]!.GetValue<int>();
        Assert.Equal(total, await app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == tenantId)));
        return total;
    }

    private static bool Replayed(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";

    [Fact]
    public async Task The_same_key_and_body_twice_replays_the_first_response_without_a_second_user()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var key = NewKey();
        var body = new { email = NewEmail(), first_name = "Once", password = ValidPassword };

        var first = await PostAsync(admin, tenant, body, key);
        var firstJson = await first.ReadJsonAsync(201);
        var second = await PostAsync(admin, tenant, body, key);
        var secondJson = await second.ReadJsonAsync(201);

        Assert.Equal(firstJson["data"]!["id"]!.GetValue<string>(), secondJson["data"]!["id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(firstJson["data"], secondJson["data"]),
            $"replayed data differs:\n{firstJson["data"]!.ToJsonString()}\n{secondJson["data"]!.ToJsonString()}");
        Assert.False(Replayed(first));
        Assert.True(Replayed(second), "the replay lacks 'Idempotent-Replayed: true'");
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(first.Headers.ETag?.ToString(), second.Headers.ETag?.ToString());
        Assert.Equal(1, await ListTotalAsync(admin, tenant));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422_on_the_header()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var key = NewKey();

        await (await PostAsync(admin, tenant, new { email = NewEmail(), password = ValidPassword }, key)).ShouldBeAsync(201);
        var reused = await PostAsync(admin, tenant, new { email = NewEmail(), password = ValidPassword }, key);
        var json = await reused.ReadJsonAsync(422);

        var error = Assert.Single(json["detail"]!.AsArray());
        Assert.Equal(["header", "idempotency-key"], error!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal(1, await ListTotalAsync(admin, tenant));
    }

    [Fact]
    public async Task Different_keys_create_different_users()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();

        var a = await (await PostAsync(admin, tenant, new { email = NewEmail(), password = ValidPassword }, NewKey())).ReadJsonAsync(201);
        var b = await (await PostAsync(admin, tenant, new { email = NewEmail(), password = ValidPassword }, NewKey())).ReadJsonAsync(201);

        Assert.NotEqual(a["data"]!["id"]!.GetValue<string>(), b["data"]!["id"]!.GetValue<string>());
        Assert.Equal(2, await ListTotalAsync(admin, tenant));
    }

    [Fact]
    public async Task A_new_key_with_the_same_body_is_a_new_request_not_a_replay()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var body = new { email = NewEmail(), password = ValidPassword };

        await (await PostAsync(admin, tenant, body, NewKey())).ShouldBeAsync(201);
        var again = await PostAsync(admin, tenant, body, NewKey());

        await again.ReadProblemAsync(409);
        Assert.False(Replayed(again));
        Assert.Equal(1, await ListTotalAsync(admin, tenant));
    }

    [Fact]
    public async Task A_key_over_255_characters_is_422_and_255_is_accepted()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();

        var tooLong = await PostAsync(admin, tenant, new { email = NewEmail(), password = ValidPassword }, new string('k', 256));
        var json = await tooLong.ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray());
        Assert.Equal(["header", "idempotency-key"], error!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal(0, await ListTotalAsync(admin, tenant));

        await (await PostAsync(admin, tenant, new { email = NewEmail(), password = ValidPassword }, new string('k', 255))).ShouldBeAsync(201);
        Assert.Equal(1, await ListTotalAsync(admin, tenant));
    }

    [Fact]
    public async Task Concurrent_requests_with_the_same_key_and_body_never_create_two_users()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        for (var round = 0; round < 5; round++)
        {
            var key = NewKey();
            var body = new { email = NewEmail(), password = ValidPassword };
            var responses = await Task.WhenAll(PostAsync(admin, tenant, body, key), PostAsync(admin, tenant, body, key));
            var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
            var report = $"round {round}: {string.Join(", ", responses.Select(r => (int)r.StatusCode))}\n{string.Join("\n", bodies)}";

            Assert.True(responses.All(r => (int)r.StatusCode == 201), report);
            var ids = bodies.Select(b => JsonNode.Parse(b)!["data"]!["id"]!.GetValue<string>()).Distinct().ToList();
            Assert.True(ids.Count == 1, report);
            Assert.Equal(round + 1, await ListTotalAsync(admin, tenant));
        }
    }
}
