using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ScaiKey.Api.Tests;

/// <summary>
/// What an Idempotency-Key promises beyond a quick retry: it holds for 24 hours and no longer (an instance on a
/// <see cref="TestClock"/>), and it belongs to the caller that used it (another caller's same key is its own).
/// </summary>
public sealed class IdempotencyWindowTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string ValidPassword = "Quartz-Lantern-93!";

    private static object Body(string email) => new { email, first_name = "Idem", password = ValidPassword };

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string tenantId, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tenants/{tenantId}/users") { Content = HttpAssertions.Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await client.SendAsync(request);
    }

    private static bool Replayed(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";

    [Fact]
    public async Task A_key_replays_for_24_hours_and_after_them_the_same_key_is_a_new_request()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            var tenant = await app.CreateTenantAsync();
            var key = "window-" + Guid.NewGuid().ToString("N");
            async Task<HttpClient> AdminAsync()
            {
                // A fresh token each time: the clock moves past an access token's hour.
                var client = host.CreateClient();
                client.DefaultRequestHeaders.Authorization = new("Bearer", await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret));
                return client;
            }

            using (var admin = await AdminAsync())
            {
                using var first = await PostAsync(admin, tenant, Body("first@example.com"), key);
                await first.ReadJsonAsync(201);
            }

            clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1));
            using (var admin = await AdminAsync())
            {
                // Within the window: the same body replays, another body is refused on the header.
                using var replay = await PostAsync(admin, tenant, Body("first@example.com"), key);
                await replay.ReadJsonAsync(201);
                Assert.True(Replayed(replay), "a retry 23 h 59 min later was not replayed");
                using var other = await PostAsync(admin, tenant, Body("second@example.com"), key);
                var refused = await other.ReadJsonAsync(422);
                Assert.Equal("idempotency-key", refused["detail"]![0]!["loc"]![1]!.GetValue<string>());
            }

            clock.Advance(TimeSpan.FromMinutes(2));
            using (var admin = await AdminAsync())
            {
                // Past 24 hours the key is free again: the other body now creates its user.
                using var later = await PostAsync(admin, tenant, Body("second@example.com"), key);
                await later.ReadJsonAsync(201);
                Assert.False(Replayed(later));
            }

            Assert.Equal(2, await app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == tenant)));
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task The_same_key_from_another_caller_is_that_callers_own_and_never_replays_the_first()
    {
        var tenant = await app.CreateTenantAsync();
        using var platform = await app.AdminAsync();
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        var key = "shared-" + Guid.NewGuid().ToString("N");

        using var first = await PostAsync(platform, tenant, Body("ada@example.com"), key);
        var firstId = (await first.ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();

        // Control: the first caller reusing the key with another body is refused.
        using var reused = await PostAsync(platform, tenant, Body("grace@example.com"), key);
        await reused.ReadJsonAsync(422);

        // Another caller, same key, that body: its own request, creating its own user.
        using var other = await PostAsync(tenantAdmin, tenant, Body("grace@example.com"), key);
        var otherId = (await other.ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        Assert.NotEqual(firstId, otherId);
        Assert.False(Replayed(other));

        Assert.Equal(2, await app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == tenant)));
    }
}
