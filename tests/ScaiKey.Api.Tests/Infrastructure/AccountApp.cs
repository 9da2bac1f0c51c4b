using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using OtpNet;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A tenant with a first-party WEB application that may use the password grant with the account scope: what the
/// account API tests sign in with. <see cref="TokensAsync"/> is a fresh sign-in, so a fresh session.
/// </summary>
public sealed record AccountApp(string TenantId, string Slug, string ClientId, string Secret)
{
    public const string Password = "Quartz-Lantern-93!";
    public const string Scope = "openid offline_access account";

    public static async Task<AccountApp> CreateAsync(ScaiKeyApp app, bool firstParty = true)
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var slug = (await (await admin.GetAsync($"/api/v1/admin/tenants/{tenant}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var data = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Account portal",
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/cb" },
            grant_types = new[] { "authorization_code", "password", "refresh_token", "client_credentials" },
            first_party = firstParty,
            consent_required = false,
        })).ReadJsonAsync(201))["data"]!;
        return new AccountApp(tenant, slug, data["client_id"]!.GetValue<string>(), data["client_secret"]!.GetValue<string>());
    }

    public async Task<(string UserId, string Email)> CreateUserAsync(ScaiKeyApp app)
    {
        var email = $"u{Guid.NewGuid():N}@example.com";
        return (await app.CreateUserIdAsync(TenantId, email, Password), email);
    }

    public HttpRequestMessage TokenRequest(Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{Secret}")));
        return request;
    }

    /// <summary>The password grant (a new sign-in session): the raw response.</summary>
    public Task<HttpResponseMessage> PasswordGrantAsync(HttpClient http, string email, string password = Password, string scope = Scope) =>
        http.SendAsync(TokenRequest(new() { ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["scope"] = scope }));

    public async Task<JsonNode> TokensAsync(HttpClient http, string email, string password = Password, string scope = Scope) =>
        await (await PasswordGrantAsync(http, email, password, scope)).ReadJsonAsync(200);

    public Task<HttpResponseMessage> RefreshAsync(HttpClient http, string refreshToken) =>
        http.SendAsync(TokenRequest(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }));

    /// <summary>A bearer client for a fresh account token of the user, on <paramref name="host"/> (the app's first host by default).</summary>
    public async Task<HttpClient> MeAsync(ScaiKeyApp app, string email, ScaiKeyHost? host = null)
    {
        using var anonymous = (host ?? app.Host).CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        return Bearer(host ?? app.Host, (await TokensAsync(anonymous, email))["access_token"]!.GetValue<string>());
    }

    public static HttpClient Bearer(ScaiKeyHost host, string token)
    {
        var client = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Enrols and confirms a TOTP factor through the API: its id, the secret, the recovery codes and the confirming code's time.</summary>
    public static async Task<(string FactorId, byte[] Secret, List<string> Codes)> EnrolTotpAsync(HttpClient me, DateTime now, string? name = "Phone")
    {
        var started = (await (await me.PostAsJsonAsync("/api/v1/me/mfa/totp", new { name })).ReadJsonAsync(201))["data"]!;
        var factorId = started["factor_id"]!.GetValue<string>();
        var secret = Base32Encoding.ToBytes(started["secret"]!.GetValue<string>());
        var confirmed = await (await me.PostAsJsonAsync($"/api/v1/me/mfa/totp/{factorId}/confirm",
            new { code = ScaiKey.Api.Mfa.TotpCodes.Compute(secret, now) })).ReadJsonAsync(200);
        return (factorId, secret, [.. confirmed["data"]!["recovery_codes"]!.AsArray().Select(c => c!.GetValue<string>())]);
    }
}
