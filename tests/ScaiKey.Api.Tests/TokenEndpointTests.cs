using System.Net;
using System.Net.Http.Headers;
using Microsoft.IdentityModel.JsonWebTokens;

namespace ScaiKey.Api.Tests;

public sealed class TokenEndpointTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Discovery_names_token_endpoint_jwks_and_es256()
    {
        using var client = app.Anonymous();
        var discovery = await (await client.GetAsync("/.well-known/openid-configuration")).ReadJsonAsync(200);
        Assert.EndsWith("/connect/token", discovery["token_endpoint"]!.GetValue<string>());
        Assert.Contains("client_credentials", discovery["grant_types_supported"]!.AsArray().Select(g => g!.GetValue<string>()));

        var jwksPath = new Uri(discovery["jwks_uri"]!.GetValue<string>()).AbsolutePath;
        var jwks = await (await client.GetAsync(jwksPath)).ReadJsonAsync(200);
        var key = Assert.Single(jwks["keys"]!.AsArray());
        Assert.Equal("EC", key!["kty"]!.GetValue<string>());
        Assert.Equal("ES256", key["alg"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(key["kid"]!.GetValue<string>()));
        Assert.Null(key["d"]); // never the private part
    }

    [Fact]
    public async Task Client_secret_basic_gives_an_es256_jwt_with_kid_for_the_api_audience()
    {
        var token = await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        var jwt = new JsonWebToken(token);
        Assert.Equal("ES256", jwt.Alg);
        Assert.False(string.IsNullOrEmpty(jwt.Kid));
        Assert.Contains("scaikey-api", jwt.Audiences);
        Assert.Equal(ScaiKeyApp.AdminClientId, jwt.Subject);
        Assert.True(jwt.ValidTo > DateTime.UtcNow.AddMinutes(30));
    }

    [Fact]
    public async Task Client_secret_post_works_too()
    {
        using var client = app.Anonymous();
        var response = await client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = ScaiKeyApp.AdminClientId,
            ["client_secret"] = ScaiKeyApp.AdminClientSecret,
        }));
        var json = await response.ReadJsonAsync(200);
        Assert.Equal("Bearer", json["token_type"]!.GetValue<string>());
        using var api = app.WithToken(json["access_token"]!.GetValue<string>());
        await (await api.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task A_wrong_secret_is_invalid_client()
    {
        using var client = app.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("test-platform-admin:wrong"u8.ToArray()));
        var response = await client.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{response.StatusCode}");
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("invalid_client", json["error"]!.GetValue<string>());
        Assert.Null(json["access_token"]);
    }

    [Theory]
    [InlineData("urn:ietf:params:oauth:grant-type:device_code", "unsupported_grant_type")]
    [InlineData("password", "unauthorized_client")] // supported, but not for an admin client
    public async Task Grants_the_client_may_not_use_are_refused(string grantType, string error)
    {
        using var client = app.Anonymous();
        var response = await client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = grantType,
            ["client_id"] = ScaiKeyApp.AdminClientId,
            ["client_secret"] = ScaiKeyApp.AdminClientSecret,
            ["username"] = "x@example.com",
            ["password"] = "whatever-password",
            ["device_code"] = "whatever",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(error, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
    }
}
