using System.Net.Http.Headers;
using System.Text;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A tenant with a confidential (WEB) application that may use the password, refresh and client-credentials
/// grants and introspect its own tokens: what the proxy, revocation and introspection tests sign in with.
/// </summary>
public sealed record PasswordGrantApp(string TenantId, string ApplicationId, string ClientId, string Secret)
{
    public const string Password = "Quartz-Lantern-93!";

    public static async Task<PasswordGrantApp> CreateAsync(ScaiKeyApp app)
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var created = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Portal",
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/callback" },
            grant_types = new[] { "client_credentials", "authorization_code", "refresh_token", "password" },
        })).ReadJsonAsync(201))["data"]!;
        return new PasswordGrantApp(tenant, created["id"]!.GetValue<string>(), created["client_id"]!.GetValue<string>(),
            created["client_secret"]!.GetValue<string>());
    }

    public async Task<string> CreateUserAsync(ScaiKeyApp app, string? email = null) =>
        await app.CreateUserIdAsync(TenantId, email ?? $"u{Guid.NewGuid():N}@example.com", Password);

    public async Task<string> EmailOfAsync(ScaiKeyApp app, string userId)
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.GetAsync($"/api/v1/tenants/{TenantId}/users/{userId}")).ReadJsonAsync(200))["data"]!["email"]!.GetValue<string>();
    }

    /// <summary>A request authenticated as this application (HTTP Basic, as RFC 6749 section 2.3.1 prefers).</summary>
    public HttpRequestMessage Post(string path, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{Secret}")));
        return request;
    }

    /// <summary>The password grant: the token response.</summary>
    public async Task<JsonNode> SignInAsync(HttpClient http, string email)
    {
        using var request = Post("/connect/token", new()
        {
            ["grant_type"] = "password", ["username"] = email, ["password"] = Password, ["scope"] = "openid offline_access",
        });
        return await (await http.SendAsync(request)).ReadJsonAsync(200);
    }

    public Task<HttpResponseMessage> RefreshAsync(HttpClient http, string refreshToken) =>
        http.SendAsync(Post("/connect/token", new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }));

    public async Task<string> ClientTokenAsync(HttpClient http)
    {
        using var request = Post("/connect/token", new() { ["grant_type"] = "client_credentials" });
        return (await (await http.SendAsync(request)).ReadJsonAsync(200))["access_token"]!.GetValue<string>();
    }

    /// <summary>RFC 7662 introspection by this application: the JSON answer.</summary>
    public async Task<JsonNode> IntrospectAsync(HttpClient http, string token)
    {
        using var request = Post("/connect/introspect", new() { ["token"] = token });
        return await (await http.SendAsync(request)).ReadJsonAsync(200);
    }

    /// <summary>
    /// Whether a user's access token from this application still stands: userinfo's answer (200, or 401 once revoked).
    /// The management API refuses these tokens whatever happens (their audience is the application), and userinfo makes
    /// the same revocation check through the same cache.
    /// </summary>
    public async Task<int> UserTokenStatusAsync(HttpClient http, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (int)(await http.SendAsync(request)).StatusCode;
    }

    /// <summary>The API's answer to the application's own token: 401 refused, anything else accepted (403: no such right).</summary>
    public async Task<int> ApiStatusAsync(HttpClient http, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tenants/{TenantId}/users");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (int)(await http.SendAsync(request)).StatusCode;
    }
}
