using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using ScaiKey.Api.OAuth;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Several instances on one database (issue 5, point 4). Signing keys live in the database, sealed: a token
/// outlives a restart and is honoured by every instance that shares the database, while a host without the
/// key-encryption key cannot open them. Users, lockout counters, revocations and key rotations are shared too.
/// Rotations here go through <c>app.Host</c>, which rereads its keys at once, so the hosts of later tests agree.
/// </summary>
public sealed class InstancesTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";

    private async Task<(string ClientId, string Secret)> PortalAsync(string tenant)
    {
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Portal", type = "WEB", redirect_uris = new[] { "https://portal.example.com/cb" },
            grant_types = new[] { "authorization_code", "password", "refresh_token" },
        })).ReadJsonAsync(201);
        return (created["data"]!["client_id"]!.GetValue<string>(), created["data"]!["client_secret"]!.GetValue<string>());
    }

    private static Task<HttpResponseMessage> TokenAsync(HttpClient http, (string ClientId, string Secret) client, Dictionary<string, string> form)
    {
        form["client_id"] = client.ClientId;
        form["client_secret"] = client.Secret;
        return http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient http, (string, string) client, string email, string password) =>
        TokenAsync(http, client, new() { ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["scope"] = "openid offline_access" });

    private static HttpClient On(ScaiKeyHost host, string? token = null)
    {
        var client = host.CreateClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }

        return client;
    }

    private static string Kid(string jwt) => new JsonWebToken(jwt).Kid;

    private static async Task<List<string>> JwksKidsAsync(ScaiKeyHost host)
    {
        using var client = host.CreateClient();
        var jwks = await (await client.GetAsync("/.well-known/jwks")).ReadJsonAsync(200);
        return jwks["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
    }

    private async Task<string> RotateAsync()
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.PostAsync("/api/v1/admin/signing-keys/rotate", null)).ReadJsonAsync(201))["data"]!["kid"]!.GetValue<string>();
    }
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

    [Theory]
    [InlineData("""{"status": "DISABLED"}""")]
    [InlineData("""{"status": "ACTIVE", "terminate_sessions": true}""")]
    public async Task A_revocation_on_one_instance_holds_on_another_within_the_cache_lifetime(string statusChange)
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var portal = await PortalAsync(tenant);
        var userId = await app.CreateUserIdAsync(tenant, "twice@example.com", Password);
        using var anonymous = app.Anonymous();
        var tokens = await (await SignInAsync(anonymous, portal, "twice@example.com", Password)).ReadJsonAsync(200);

        var second = app.StartHost();
        try
        {
            using var onSecond = On(second, tokens["access_token"]!.GetValue<string>());
            // Userinfo makes the API's revocation check (the application's token cannot call the management API).
            await (await onSecond.GetAsync("/connect/userinfo")).ShouldBeAsync(200);

            await (await admin.PutAsync($"/api/v1/tenants/{tenant}/users/{userId}/status", HttpAssertions.Json(statusChange))).ShouldBeAsync(200);

            // The second instance answered from its one-second cache a moment ago; past that it reads the revocation.
            await Task.Delay(ScaiKey.Api.OpenIdConnect.RevocationCache.Lifetime + TimeSpan.FromMilliseconds(200));
            await (await onSecond.GetAsync("/connect/userinfo")).ShouldBeAsync(401);

            // The refresh token dies with the session and grant, whichever instance it is presented to.
            using var bare = On(second);
            var refused = await (await TokenAsync(bare, portal, new()
            {
                ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>(),
            })).ReadJsonAsync(400);
            Assert.Equal("invalid_grant", refused["error"]!.GetValue<string>());
        }
        finally
        {
            await app.StopHostAsync(second);
        }
    }

    [Fact]
    public async Task A_role_revoked_on_one_instance_stops_working_on_another_within_the_cache_lifetime()
    {
        var tenant = await app.CreateTenantAsync();
        var (_, clientId, secret) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        var assignment = (await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "CLIENT", principal_id = clientId, role = "TENANT_VIEWER", tenant_id = tenant })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var token = await app.GetTokenAsync(clientId, secret);

        var second = app.StartHost();
        try
        {
            // The second instance reads and caches the grant...
            using var onSecond = On(second, token);
            await (await onSecond.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(200);

            // ...and, once its cache entry has lapsed, sees the revocation made on the first.
            await (await admin.DeleteAsync($"/api/v1/admin/role-assignments/{assignment}")).ShouldBeAsync(204);
            await Task.Delay(ScaiKey.Api.Security.Caller.GrantCacheLifetime + TimeSpan.FromMilliseconds(200));
            await (await onSecond.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(403);
        }
        finally
        {
            await app.StopHostAsync(second);
        }
    }

    [Fact]
    public async Task A_user_created_on_one_instance_is_read_and_listed_on_another()
    {
        var second = app.StartHost();
        try
        {
            var tenant = await app.CreateTenantAsync();
            var adminToken = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
            var onFirst = await app.CreateUserIdAsync(tenant, "made-on-first@example.com", Password);
            using var adminOnSecond = On(second, adminToken);
            var read = await (await adminOnSecond.GetAsync($"/api/v1/tenants/{tenant}/users/{onFirst}")).ReadJsonAsync(200);
            Assert.Equal("made-on-first@example.com", read["data"]!["email"]!.GetValue<string>());

            // And the other way round, through both routes that read users.
            var created = await (await adminOnSecond.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users",
                new { email = "made-on-second@example.com", password = Password })).ReadJsonAsync(201);
            var onSecond = created["data"]!["id"]!.GetValue<string>();
            using var adminOnFirst = await app.AdminAsync();
            await (await adminOnFirst.GetAsync($"/api/v1/tenants/{tenant}/users/{onSecond}")).ShouldBeAsync(200);
            foreach (var client in new[] { adminOnFirst, adminOnSecond })
            {
                var list = await (await client.GetAsync($"/api/v1/tenants/{tenant}/users?per_page=100")).ReadJsonAsync(200);
                var ids = list["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();
                Assert.Contains(onFirst, ids);
                Assert.Contains(onSecond, ids);
            }
        }
        finally
        {
            await app.StopHostAsync(second);
        }
    }

    [Fact]
    public async Task Lockout_counts_wrong_passwords_made_on_either_instance()
    {
        var second = app.StartHost();
        try
        {
            var tenant = await app.CreateTenantAsync(); // default lockout policy: 5 failures
            var portal = await PortalAsync(tenant);
            var userId = await app.CreateUserIdAsync(tenant, "both@example.com", Password);
            using var first = app.Anonymous();
            using var other = On(second);

            for (var i = 0; i < 3; i++)
            {
                await (await SignInAsync(first, portal, "both@example.com", $"Wrong-Password-{i}!")).ShouldBeAsync(400);
            }

            await (await SignInAsync(other, portal, "both@example.com", "Wrong-Password-3!")).ShouldBeAsync(400);
            var afterFour = await app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == userId)
                .Select(u => new { u.Status, u.FailedLoginAttempts }).SingleAsync());
            Assert.Equal((UserStatus.Active, 4), (afterFour.Status, afterFour.FailedLoginAttempts));

            await (await SignInAsync(other, portal, "both@example.com", "Wrong-Password-4!")).ShouldBeAsync(400);
            Assert.Equal(UserStatus.Locked, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Status).SingleAsync()));
            Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.locked")));

            // The right password now meets the lock on both instances (answered like a wrong one).
            foreach (var http in new[] { first, other })
            {
                var refused = await (await SignInAsync(http, portal, "both@example.com", Password)).ReadJsonAsync(400);
                Assert.Equal("Invalid email or password.", refused["error_description"]!.GetValue<string>());
            }
        }
        finally
        {
            await app.StopHostAsync(second);
        }
    }

    [Fact]
    public async Task Tokens_signed_with_a_key_rotated_in_elsewhere_are_accepted_at_once_and_older_ones_still_are()
    {
        var portalTenant = await app.CreateTenantAsync();
        var portal = await PortalAsync(portalTenant);
        await app.CreateUserIdAsync(portalTenant, "rotation@example.com", Password);
        using var anonymous = app.Anonymous();
        var before = await (await SignInAsync(anonymous, portal, "rotation@example.com", Password)).ReadJsonAsync(200);
        var oldAdminToken = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);

        // Two more instances that read the keys before the rotation and would not reread them for an hour on their own.
        Action<IWebHostBuilder> slowRefresh = b => b.UseSetting("ScaiKey:SigningKeys:RefreshSeconds", "3600");
        var refreshes = app.StartHost(slowRefresh);
        var validates = app.StartHost(slowRefresh);
        try
        {
            var oldKid = Kid(oldAdminToken);
            Assert.Equal(oldKid, (await JwksKidsAsync(refreshes))[0]);
            Assert.Equal(oldKid, (await JwksKidsAsync(validates))[0]);

            var newKid = await RotateAsync();
            Assert.NotEqual(oldKid, newKid);
            var after = await (await SignInAsync(anonymous, portal, "rotation@example.com", Password)).ReadJsonAsync(200);
            var newAdminToken = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
            Assert.Equal(newKid, Kid(newAdminToken));
            Assert.Equal(newKid, Kid(after["access_token"]!.GetValue<string>()));

            // A refresh token (encrypted, signed inside with the new key) redeemed on an instance that has not seen the key.
            using var onRefreshes = On(refreshes);
            var refreshed = await (await TokenAsync(onRefreshes, portal, new()
            {
                ["grant_type"] = "refresh_token", ["refresh_token"] = after["refresh_token"]!.GetValue<string>(),
            })).ReadJsonAsync(200);
            Assert.Equal(newKid, Kid(refreshed["access_token"]!.GetValue<string>()));

            // An access token with the new key on the API of the other instance that has not seen it.
            using (var onValidates = On(validates, newAdminToken))
            {
                await (await onValidates.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
            }

            var published = await JwksKidsAsync(validates);
            Assert.Equal(newKid, published[0]);
            Assert.Contains(oldKid, published);

            // What the old key signed before the rotation still holds everywhere, the refresh token included.
            foreach (var host in new[] { app.Host, refreshes, validates })
            {
                using var client = On(host, oldAdminToken);
                await (await client.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
            }

            using var bare = On(validates);
            await (await TokenAsync(bare, portal, new()
            {
                ["grant_type"] = "refresh_token", ["refresh_token"] = before["refresh_token"]!.GetValue<string>(),
            })).ShouldBeAsync(200);
        }
        finally
        {
            await app.StopHostAsync(refreshes);
            await app.StopHostAsync(validates);
        }
    }

    [Fact]
    public async Task Another_instance_publishes_and_signs_with_a_rotated_key_after_its_refresh_interval()
    {
        var oldAdminToken = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        var oldKid = Kid(oldAdminToken);
        var clock = new TestClock();
        var second = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            Assert.Equal(oldKid, Kid(await ScaiKeyApp.GetTokenAsync(second, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret)));
            var newKid = await RotateAsync();

            // Nothing signed with the new key has reached the second instance, and its clock stands still: within its
            // refresh interval it still publishes and signs with what it read (the old key stays valid everywhere).
            Assert.DoesNotContain(newKid, await JwksKidsAsync(second));
            Assert.Equal(oldKid, Kid(await ScaiKeyApp.GetTokenAsync(second, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret)));

            var interval = second.Services.GetRequiredService<SigningKeyStore>().RefreshInterval;
            Assert.Equal(TimeSpan.FromSeconds(30), interval);
            clock.Advance(interval + TimeSpan.FromSeconds(1));
            var published = await JwksKidsAsync(second);
            Assert.Equal(newKid, published[0]);
            Assert.Contains(oldKid, published);
            var signedThere = await ScaiKeyApp.GetTokenAsync(second, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
            Assert.Equal(newKid, Kid(signedThere));

            // Its own new token and the one signed with the old key before the rotation both hold there.
            foreach (var token in new[] { signedThere, oldAdminToken })
            {
                using var client = On(second, token);
                await (await client.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
            }
        }
        finally
        {
            await app.StopHostAsync(second);
        }
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
