using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Client secrets are stored as keyed hashes (fast to check on every token request), earlier PBKDF2 values still
/// work and are upgraded, and the in-memory copy of a client never outlives a rotation or a delete on this instance.
/// </summary>
public sealed class ClientSecretTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task New_secrets_are_stored_as_keyed_hashes_and_work()
    {
        var (clientId, secret, _) = await CreateServiceApplicationAsync();

        var stored = await StoredSecretAsync(clientId);
        Assert.StartsWith(ClientSecretHasher.Prefix, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        await ScaiKeyApp.GetTokenAsync(app.Host, clientId, secret);
        Assert.Equal("invalid_client", await TokenErrorAsync(clientId, secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')));
    }

    [Fact]
    public async Task Pbkdf2_secrets_of_earlier_versions_still_work_and_are_upgraded_on_first_use()
    {
        var (clientId, _, _) = await CreateServiceApplicationAsync();
        const string legacySecret = "legacy-secret-from-openiddict-pbkdf2-0123456789";
        await app.DbAsync(async db =>
        {
            var row = await db.Set<OpenIddictEntityFrameworkCoreApplication>().SingleAsync(a => a.ClientId == clientId);
            row.ClientSecret = Pbkdf2(legacySecret);
            await db.SaveChangesAsync();
        });
        Assert.Equal("invalid_client", await TokenErrorAsync(clientId, legacySecret + "x")); // control: still checked

        await ScaiKeyApp.GetTokenAsync(app.Host, clientId, legacySecret);

        var upgraded = await StoredSecretAsync(clientId);
        Assert.StartsWith(ClientSecretHasher.Prefix, upgraded, StringComparison.Ordinal);
        await ScaiKeyApp.GetTokenAsync(app.Host, clientId, legacySecret);
        Assert.Equal("invalid_client", await TokenErrorAsync(clientId, legacySecret + "x"));
    }

    [Fact]
    public async Task A_rotated_secret_stops_working_at_once()
    {
        var (clientId, oldSecret, applicationPath) = await CreateServiceApplicationAsync();
        await ScaiKeyApp.GetTokenAsync(app.Host, clientId, oldSecret); // the client is now in the token cache

        using var admin = await app.AdminAsync();
        var rotated = await (await admin.PostAsync(applicationPath + "/secret", null)).ReadJsonAsync(200);
        var newSecret = rotated["data"]!["client_secret"]!.GetValue<string>();

        Assert.Equal("invalid_client", await TokenErrorAsync(clientId, oldSecret));
        await ScaiKeyApp.GetTokenAsync(app.Host, clientId, newSecret);
    }

    [Fact]
    public async Task A_deleted_application_gets_no_token_at_once()
    {
        var (clientId, secret, applicationPath) = await CreateServiceApplicationAsync();
        await ScaiKeyApp.GetTokenAsync(app.Host, clientId, secret);

        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync(applicationPath)).ShouldBeAsync(204);

        Assert.Equal("invalid_client", await TokenErrorAsync(clientId, secret));
    }

    [Fact]
    public void Keyed_hashes_depend_on_the_key_ring_and_reject_tampering()
    {
        var hasher = new ClientSecretHasher(new KeyRing(Enumerable.Repeat((byte)7, 32).ToArray()));
        var other = new ClientSecretHasher(new KeyRing(Enumerable.Repeat((byte)8, 32).ToArray()));
        var hash = hasher.Hash("s3cret");

        Assert.True(hasher.Verify("s3cret", hash));
        Assert.False(hasher.Verify("s3cret ", hash));
        Assert.False(other.Verify("s3cret", hash)); // a database copied elsewhere cannot test candidates
        Assert.NotEqual(hash, other.Hash("s3cret"));
        Assert.False(hasher.Verify("s3cret", hash[..^4] + "AAA="));
        Assert.False(hasher.Verify("s3cret", ClientSecretHasher.Prefix + "not base64!"));
        Assert.False(hasher.Verify("s3cret", ClientSecretHasher.Prefix + Convert.ToBase64String(new byte[16])));
        Assert.False(hasher.Verify("s3cret", "AQAAAAEAACcQAAAAE"));
    }

    private async Task<(string ClientId, string Secret, string Path)> CreateServiceApplicationAsync()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var created = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications",
            new { name = "Secrets " + Guid.NewGuid().ToString("N")[..6], type = "SERVICE" })).ReadJsonAsync(201))["data"]!;
        return (created["client_id"]!.GetValue<string>(), created["client_secret"]!.GetValue<string>(),
            $"/api/v1/tenants/{tenant}/applications/{created["id"]!.GetValue<string>()}");
    }

    private Task<string> StoredSecretAsync(string clientId) => app.DbAsync(db => db.Set<OpenIddictEntityFrameworkCoreApplication>()
        .AsNoTracking().Where(a => a.ClientId == clientId).Select(a => a.ClientSecret!).SingleAsync());

    private async Task<string> TokenErrorAsync(string clientId, string secret)
    {
        using var client = app.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.False(response.IsSuccessStatusCode, "a token was issued: " + body);
        return JsonNode.Parse(body)!["error"]!.GetValue<string>();
    }

    /// <summary>
    /// A secret as OpenIddict stored it before keyed hashes (PBKDF2-HMAC-SHA256, the ASP.NET Core Identity v3
    /// layout: 0x01, PRF, iteration count, salt length, salt, subkey; integers big-endian).
    /// </summary>
    private static string Pbkdf2(string secret)
    {
        const int iterations = 10_000;
        var salt = RandomNumberGenerator.GetBytes(16);
        var subkey = Rfc2898DeriveBytes.Pbkdf2(secret, salt, iterations, HashAlgorithmName.SHA256, 32);
        var payload = new byte[13 + salt.Length + subkey.Length];
        payload[0] = 0x01;
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(1), 1); // HMAC-SHA256
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(5), iterations);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(9), (uint)salt.Length);
        salt.CopyTo(payload, 13);
        subkey.CopyTo(payload, 13 + salt.Length);
        return Convert.ToBase64String(payload);
    }
}
