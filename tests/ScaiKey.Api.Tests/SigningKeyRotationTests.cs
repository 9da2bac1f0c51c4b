using System.Security.Claims;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.Tests;

/// <summary>
/// /api/v1/admin/signing-keys: platform admins list the token keys (never their material) and rotate the signing
/// key; replaced keys stay published and valid for the longest token lifetime, then retire.
/// </summary>
public sealed class SigningKeyRotationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string KeysPath = "/api/v1/admin/signing-keys";
    private const string RotatePath = "/api/v1/admin/signing-keys/rotate";

    private static string Kid(string jwt) => new JsonWebToken(jwt).Kid;

    private static async Task<List<string>> JwksKidsAsync(HttpClient client)
    {
        var jwks = await (await client.GetAsync("/.well-known/jwks")).ReadJsonAsync(200);
        return jwks["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
    }

    private static async Task<Dictionary<string, JsonNode>> ListAsync(HttpClient admin)
    {
        var list = await (await admin.GetAsync(KeysPath)).ReadJsonAsync(200);
        return list["data"]!.AsArray().ToDictionary(k => k!["kid"]!.GetValue<string>(), k => k!);
    }

    [Fact]
    public async Task Only_platform_admins_may_list_read_or_rotate_keys()
    {
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Keys partner " + Guid.NewGuid().ToString("N")[..6] });
        var tenant = await app.CreateTenantAsync(partnerId: partner);
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        using var admin = await app.AdminAsync();
        var before = await app.DbAsync(db => db.SigningKeys.CountAsync());
        var kid = (await ListAsync(admin)).Keys.First();

        foreach (var refused in new[] { partnerAdmin, tenantAdmin })
        {
            await (await refused.GetAsync(KeysPath)).ReadProblemAsync(403);
            await (await refused.GetAsync($"{KeysPath}/{kid}")).ReadProblemAsync(403);
            await (await refused.PostAsync(RotatePath, null)).ReadProblemAsync(403);
        }

        using var anonymous = app.Anonymous();
        await (await anonymous.PostAsync(RotatePath, null)).ShouldBeAsync(401);
        Assert.Equal(before, await app.DbAsync(db => db.SigningKeys.CountAsync()));

        // Control: the same requests from a platform admin succeed.
        await (await admin.GetAsync($"{KeysPath}/{kid}")).ShouldBeAsync(200);
        await (await admin.PostAsync(RotatePath, null)).ShouldBeAsync(201);
        Assert.Equal(before + 1, await app.DbAsync(db => db.SigningKeys.CountAsync()));
    }

    [Fact]
    public async Task Keys_are_listed_with_metadata_and_never_with_their_material()
    {
        using var admin = await app.AdminAsync();
        await (await admin.PostAsync(RotatePath, null)).ShouldBeAsync(201);
        var response = await admin.GetAsync(KeysPath);
        var body = await response.Content.ReadAsStringAsync();
        var keys = await ListAsync(admin);

        var stored = await app.DbAsync(db => db.SigningKeys.AsNoTracking().ToListAsync());
        Assert.Equal(stored.Select(k => k.Id).Order(), keys.Keys.Order());
        foreach (var row in stored)
        {
            Assert.DoesNotContain(row.EncryptedKey, body, StringComparison.Ordinal);
        }

        foreach (var key in keys.Values)
        {
            Assert.Equal(["algorithm", "created_at", "kid", "retired_at", "state", "use"], key.AsObject().Select(p => p.Key).Order());
        }

        Assert.DoesNotContain("\"d\"", body, StringComparison.Ordinal);
        Assert.Single(keys.Values, k => k["use"]!.GetValue<string>() == "sig" && k["state"]!.GetValue<string>() == "ACTIVE");
        Assert.Single(keys.Values, k => k["use"]!.GetValue<string>() == "enc" && k["state"]!.GetValue<string>() == "ACTIVE");
        Assert.All(keys.Values.Where(k => k["use"]!.GetValue<string>() == "sig"), k => Assert.Equal("ES256", k["algorithm"]!.GetValue<string>()));

        await (await admin.GetAsync($"{KeysPath}/no-such-key")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Rotation_signs_new_tokens_with_a_new_published_key_and_earlier_tokens_stay_valid()
    {
        var oldToken = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        var oldKid = Kid(oldToken);
        using var admin = app.WithToken(oldToken);

        var rotated = await (await admin.PostAsync(RotatePath, null)).ReadJsonAsync(201);
        var newKid = rotated["data"]!["kid"]!.GetValue<string>();
        Assert.NotEqual(oldKid, newKid);
        Assert.Equal("ACTIVE", rotated["data"]!["state"]!.GetValue<string>());
        Assert.Equal("sig", rotated["data"]!["use"]!.GetValue<string>());

        using var anonymous = app.Anonymous();
        var published = await JwksKidsAsync(anonymous);
        Assert.Equal(newKid, published[0]);
        Assert.Contains(oldKid, published);

        var newToken = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        Assert.Equal(newKid, Kid(newToken));
        foreach (var token in new[] { oldToken, newToken })
        {
            using var client = app.WithToken(token);
            await (await client.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
        }

        // The replaced key is published until the longest token lifetime (refresh tokens: 14 days) has passed.
        var keys = await ListAsync(admin);
        Assert.Equal("ACTIVE", keys[newKid]["state"]!.GetValue<string>());
        Assert.Null(keys[newKid]["retired_at"]);
        Assert.Equal("PUBLISHED", keys[oldKid]["state"]!.GetValue<string>());
        var retiredAt = keys[oldKid]["retired_at"]!.GetValue<DateTime>();
        var createdAt = keys[newKid]["created_at"]!.GetValue<DateTime>();
        Assert.InRange(retiredAt - createdAt, TimeSpan.FromDays(14), TimeSpan.FromDays(14) + TimeSpan.FromMinutes(2));

        // Audited: the rotation and the retirement it scheduled, by the caller.
        var events = await app.DbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(e => e.TargetType == "signing_key" && (e.TargetId == newKid || e.TargetId == oldKid)).ToListAsync());
        var rotation = Assert.Single(events, e => e.Action == "signing_key.rotated");
        Assert.Equal(newKid, rotation.TargetId);
        Assert.Equal(ScaiKeyApp.AdminClientId, rotation.ActorId);
        Assert.Null(rotation.TenantId);
        Assert.Single(events, e => e.Action == "signing_key.retirement_scheduled" && e.TargetId == oldKid);

        // Readable through the audit API like any other platform event.
        var audit = await (await admin.GetAsync($"/api/v1/admin/audit-events?target_id={newKid}")).ReadJsonAsync(200);
        Assert.Equal("signing_key.rotated", Assert.Single(audit["data"]!.AsArray())!["action"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("e30.e30.")]
    [InlineData("eyJraWQiOjV9.e30.")]
    [InlineData("....")]
    [InlineData("")]
    public void A_token_whose_key_id_cannot_be_read_names_no_key(string token)
    {
        // Such tokens never trigger a reload; validation proper rejects them with the usual 401.
        Assert.Null(SigningKeyStore.SigningKeyIdOf(token, new JsonWebTokenHandler(), new TokenValidationParameters()));
    }

    [Fact]
    public void The_key_id_is_read_from_the_protected_header()
    {
        var key = app.Host.Services.GetRequiredService<SigningKeyStore>().Keys.SigningKeys[0];
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", "x")]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
        });
        Assert.Equal(key.KeyId, SigningKeyStore.SigningKeyIdOf(token, new JsonWebTokenHandler(), new TokenValidationParameters()));
    }

    [Fact]
    public async Task A_replaced_key_leaves_the_jwks_and_stops_validating_once_retired()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            var store = host.Services.GetRequiredService<SigningKeyStore>();
            using var anonymous = host.CreateClient();
            var adminToken = await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
            var oldKey = store.Keys.SigningKeys[0];
            Assert.Equal(oldKey.KeyId, Kid(adminToken));

            // Tokens made with the old key that would be good for a year: only the key's retirement can end them. Two
            // of them, because an instance remembers a token it has validated until the token expires.
            string LongLived() => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = "http://localhost/",
                Audience = "scaikey-api",
                Subject = new ClaimsIdentity([
                    new Claim("sub", ScaiKeyApp.AdminClientId), new Claim("scaikey_pt", "CLIENT"), new Claim("jti", Guid.NewGuid().ToString("N"))]),
                IssuedAt = clock.GetUtcNow().UtcDateTime.AddMinutes(-1),
                NotBefore = clock.GetUtcNow().UtcDateTime.AddMinutes(-1),
                Expires = clock.GetUtcNow().UtcDateTime.AddDays(365),
                SigningCredentials = new SigningCredentials(oldKey, SecurityAlgorithms.EcdsaSha256),
                TokenType = "at+jwt",
            });
            var seenBefore = LongLived();
            var firstSeenAfter = LongLived();

            using (var admin = host.CreateClient())
            {
                admin.DefaultRequestHeaders.Authorization = new("Bearer", adminToken);
                await (await admin.PostAsync(RotatePath, null)).ShouldBeAsync(201);
            }

            var retention = SigningKeyEndpoints.RetentionAfterRotation(
                host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<OpenIddict.Server.OpenIddictServerOptions>>().CurrentValue,
                store.RefreshInterval);

            async Task<int> StatusWithAsync(string token)
            {
                using var client = host.CreateClient();
                client.DefaultRequestHeaders.Authorization = new("Bearer", token);
                return (int)(await client.GetAsync("/api/v1/admin/tenants")).StatusCode;
            }

            // Control: just before the retirement the old key is still published and accepted.
            clock.Advance(retention - TimeSpan.FromMinutes(1));
            Assert.Contains(oldKey.KeyId, await JwksKidsAsync(anonymous));
            Assert.Equal(200, await StatusWithAsync(seenBefore));

            clock.Advance(TimeSpan.FromMinutes(2));
            Assert.DoesNotContain(oldKey.KeyId, await JwksKidsAsync(anonymous));
            Assert.Equal(401, await StatusWithAsync(firstSeenAfter));

            var freshAdmin = await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
            Assert.NotEqual(oldKey.KeyId, Kid(freshAdmin));
            using var lister = host.CreateClient();
            lister.DefaultRequestHeaders.Authorization = new("Bearer", freshAdmin);
            Assert.Equal("RETIRED", (await ListAsync(lister))[oldKey.KeyId]["state"]!.GetValue<string>());
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }
}
