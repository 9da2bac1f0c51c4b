using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Signing keys live in the database, sealed: a token outlives a restart and is honoured by every instance
/// that shares the database, while a host without the key-encryption key cannot open them.
/// </summary>
public sealed class InstancesTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task A_token_from_one_instance_is_accepted_by_a_second_instance_on_the_same_database()
    {
        var token = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        var second = app.StartHost();
        using var client = second.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await (await client.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);

        using var anonymous = app.Anonymous();
        using var anonymousSecond = second.CreateClient();
        var jwksFirst = await (await anonymous.GetAsync("/.well-known/jwks")).Content.ReadAsStringAsync();
        var jwksSecond = await (await anonymousSecond.GetAsync("/.well-known/jwks")).Content.ReadAsStringAsync();
        Assert.Equal(jwksFirst, jwksSecond);
    }

    [Fact]
    public async Task A_revocation_on_one_instance_holds_on_another_within_the_cache_lifetime()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Portal", type = "WEB", redirect_uris = new[] { "https://portal.example.com/cb" },
            grant_types = new[] { "authorization_code", "password" },
        })).ReadJsonAsync(201);
        var clientId = created["data"]!["client_id"]!.GetValue<string>();
        var secret = created["data"]!["client_secret"]!.GetValue<string>();
        var userId = await app.CreateUserIdAsync(tenant, "twice@example.com", "Quartz-Lantern-93!");
        using var anonymous = app.Anonymous();
        var tokens = await (await anonymous.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = "twice@example.com", ["password"] = "Quartz-Lantern-93!",
            ["client_id"] = clientId, ["client_secret"] = secret,
        }))).ReadJsonAsync(200);

        var second = app.StartHost();
        using var onSecond = second.CreateClient();
        onSecond.DefaultRequestHeaders.Authorization = new("Bearer", tokens["access_token"]!.GetValue<string>());
        await (await onSecond.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(403);

        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{tenant}/users/{userId}/status", new { status = "DISABLED" })).ShouldBeAsync(200);

        // The second instance answered from its one-second cache a moment ago; past that it reads the revocation.
        await Task.Delay(ScaiKey.Api.SignIn.RevocationCache.Lifetime + TimeSpan.FromMilliseconds(200));
        await (await onSecond.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(401);
        await app.StopHostAsync(second);
    }

    [Fact]
    public async Task A_token_survives_a_restart_and_bootstrap_runs_only_once()
    {
        var first = app.StartHost();
        var token = await ScaiKeyApp.GetTokenAsync(first, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        await app.StopHostAsync(first);
        var restarted = app.StartHost();
        using var client = restarted.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await (await client.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);

        var admins = await app.DbAsync(db => Task.FromResult(db.RoleAssignments.Count(r => r.Role == "PLATFORM_ADMIN")));
        Assert.Equal(1, admins);
    }

    [Fact]
    public async Task Key_material_is_stored_sealed_not_in_the_clear()
    {
        var keys = await app.DbAsync(db => Task.FromResult(db.SigningKeys.ToList()));
        Assert.Contains(keys, k => k.Use == "sig");
        Assert.Contains(keys, k => k.Use == "enc");
        foreach (SigningKey key in keys)
        {
            Assert.DoesNotContain("PRIVATE KEY", key.EncryptedKey);
            var raw = Convert.FromBase64String(key.EncryptedKey);
            Assert.True(raw.Length > 28); // nonce + tag + ciphertext
        }
    }

    [Fact]
    public void A_host_with_another_key_encryption_key_cannot_open_the_keys()
    {
        var wrongKey = Convert.ToBase64String(new byte[32]);
        var exception = Record.Exception(() =>
        {
            var host = app.StartHost(b => b.UseSetting("ScaiKey:KeyEncryptionKey", wrongKey));
            _ = ((ScaiKey.Api.OAuth.SigningKeyStore)host.Services.GetService(typeof(ScaiKey.Api.OAuth.SigningKeyStore))!).Keys;
        });
        Assert.NotNull(exception);
    }
}
