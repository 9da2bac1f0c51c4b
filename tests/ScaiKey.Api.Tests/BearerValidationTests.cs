using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.Tests;

/// <summary>Every API route sits behind bearer validation: only our own, unexpired, correctly addressed tokens pass.</summary>
public sealed class BearerValidationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string ProtectedPath = "/api/v1/admin/tenants";

    private SecurityKey RealSigningKey => app.Host.Services.GetRequiredService<SigningKeyStore>().Keys.SigningKeys[0];

    private string Issuer => "http://localhost/";

    private string Craft(SecurityKey key, string algorithm, string? issuer = null, string audience = "scaikey-api", DateTime? expires = null, DateTime? notBefore = null)
    {
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var now = DateTime.UtcNow;
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", ScaiKeyApp.AdminClientId), new Claim("scaikey_pt", "CLIENT")]),
            IssuedAt = notBefore ?? now.AddMinutes(-1),
            NotBefore = notBefore ?? now.AddMinutes(-1),
            Expires = expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(key, algorithm),
            TokenType = "at+jwt",
        });
    }

    private async Task AssertUnauthorizedAsync(string? token)
    {
        using var client = token is null ? app.Anonymous() : app.WithToken(token);
        var response = await client.GetAsync(ProtectedPath);
        var problem = await response.ReadProblemAsync(401);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("Unauthorized", problem["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_token_crafted_with_the_real_key_and_right_claims_is_accepted()
    {
        // Control for the negative cases below: the crafting itself is sound.
        using var client = app.WithToken(Craft(RealSigningKey, SecurityAlgorithms.EcdsaSha256));
        await (await client.GetAsync(ProtectedPath)).ShouldBeAsync(200);
    }

    [Fact]
    public Task No_token_is_401_with_www_authenticate() => AssertUnauthorizedAsync(null);

    [Fact]
    public Task Garbage_token_is_401() => AssertUnauthorizedAsync("not-a-jwt");

    [Fact]
    public Task Alg_none_is_401()
    {
        static string B64(string s) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(s));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var token = B64("{\"alg\":\"none\",\"typ\":\"at+jwt\"}") + "." +
            B64($"{{\"iss\":\"{Issuer}\",\"aud\":\"scaikey-api\",\"sub\":\"{ScaiKeyApp.AdminClientId}\",\"scaikey_pt\":\"CLIENT\",\"iat\":{now},\"exp\":{now + 600}}}") + ".";
        return AssertUnauthorizedAsync(token);
    }

    [Fact]
    public Task Wrong_issuer_is_401() => AssertUnauthorizedAsync(Craft(RealSigningKey, SecurityAlgorithms.EcdsaSha256, issuer: "https://evil.example/"));

    [Fact]
    public Task Wrong_audience_is_401() => AssertUnauthorizedAsync(Craft(RealSigningKey, SecurityAlgorithms.EcdsaSha256, audience: "another-api"));

    [Fact]
    public Task Expired_token_is_401() =>
        AssertUnauthorizedAsync(Craft(RealSigningKey, SecurityAlgorithms.EcdsaSha256, expires: DateTime.UtcNow.AddMinutes(-10), notBefore: DateTime.UtcNow.AddMinutes(-30)));

    [Fact]
    public Task Token_signed_by_a_foreign_key_with_our_kid_is_401()
    {
        var foreign = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = RealSigningKey.KeyId };
        return AssertUnauthorizedAsync(Craft(foreign, SecurityAlgorithms.EcdsaSha256));
    }

    [Fact]
    public Task Hmac_signed_with_the_public_key_is_401()
    {
        var ecdsa = ((ECDsaSecurityKey)RealSigningKey).ECDsa;
        var publicKeyBytes = ecdsa.ExportSubjectPublicKeyInfo();
        var hmacKey = new SymmetricSecurityKey(publicKeyBytes) { KeyId = RealSigningKey.KeyId };
        return AssertUnauthorizedAsync(Craft(hmacKey, SecurityAlgorithms.HmacSha256));
    }

    [Fact]
    public async Task A_valid_token_of_a_principal_without_roles_is_403_not_401()
    {
        var (_, clientId, _) = await app.CreateAdminClientAsync();
        using var client = app.WithToken(CraftFor(clientId));
        var response = await client.GetAsync(ProtectedPath);
        await response.ReadProblemAsync(403);

        // A client that does not exist (or was deleted) holds no valid token at all.
        using var nobody = app.WithToken(CraftFor("nobody-client"));
        await (await nobody.GetAsync(ProtectedPath)).ReadProblemAsync(401);
    }

    private string CraftFor(string subject)
    {
        var handler = new JsonWebTokenHandler();
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = "scaikey-api",
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("scaikey_pt", "CLIENT")]),
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(RealSigningKey, SecurityAlgorithms.EcdsaSha256),
            TokenType = "at+jwt",
        });
    }
}
