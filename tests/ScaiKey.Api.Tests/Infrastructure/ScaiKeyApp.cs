using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Data;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// The real service over HTTP for one test class: its own database, real tokens from /connect/token, no
/// authentication shortcuts.
/// </summary>
public class ScaiKeyApp : IAsyncLifetime
{
    public const string AdminClientId = "test-platform-admin";
    public const string AdminClientSecret = "test-platform-admin-secret-0123456789";

    // Fixed so two hosts over one database (a restart, a second instance) open the same sealed keys.
    public static readonly string KeyEncryptionKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private readonly List<ScaiKeyHost> _hosts = [];
    private string? _adminToken;

    public TestDatabase Database { get; private set; } = null!;

    public ScaiKeyHost Host => _hosts[0];

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateMigratedAsync();
        StartHost(ConfigureHost);
    }

    /// <summary>Settings of the first instance that a fixture deriving from this one needs (see <see cref="FederationApp"/>).</summary>
    protected virtual void ConfigureHost(IWebHostBuilder builder)
    {
    }

    /// <summary>Another instance on the same database (a restart or a second node behind a load balancer).</summary>
    public ScaiKeyHost StartHost(Action<IWebHostBuilder>? configure = null)
    {
        var host = new ScaiKeyHost(Database, configure);
        _ = host.Server; // start now, so start-up failures surface here
        _hosts.Add(host);
        return host;
    }

    public async Task StopHostAsync(ScaiKeyHost host)
    {
        _hosts.Remove(host);
        await host.DisposeAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await Database.DisposeAsync();
    }

    public HttpClient Anonymous() => Host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public async Task<HttpClient> AdminAsync()
    {
        _adminToken ??= await GetTokenAsync(AdminClientId, AdminClientSecret);
        return WithToken(_adminToken);
    }

    public HttpClient WithToken(string token)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public Task<string> GetTokenAsync(string clientId, string clientSecret) => GetTokenAsync(Host, clientId, clientSecret);

    public static async Task<string> GetTokenAsync(ScaiKeyHost host, string clientId, string clientSecret)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(clientSecret)}")));
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"token request failed: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["access_token"]!.GetValue<string>();
    }

    /// <summary>Runs <paramref name="work"/> against the database directly, for set-up and for checking what was stored.</summary>
    public async Task<T> DbAsync<T>(Func<ScaiKeyDbContext, Task<T>> work)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>());
    }

    /// <summary>The plain text of a queued email (bodies are sealed at rest).</summary>
    public string OutboxBody(ScaiKey.Data.Entities.EmailOutboxMessage message) =>
        ScaiKey.Api.Email.EmailOutbox.Open(Host.Services.GetRequiredService<ScaiKey.Api.Security.KeyRing>(), message);

    public Task DbAsync(Func<ScaiKeyDbContext, Task> work) => DbAsync(async db =>
    {
        await work(db);
        return true;
    });

    // ---- set-up helpers over the public API ----

    public async Task<string> CreateTenantAsync(string? name = null, object? settings = null, string? partnerId = null)
    {
        using var admin = await AdminAsync();
        var body = new Dictionary<string, object?> { ["name"] = name ?? "Tenant " + Guid.NewGuid().ToString("N")[..8] };
        if (settings is not null)
        {
            body["settings"] = settings;
        }

        if (partnerId is not null)
        {
            body["partner_id"] = partnerId;
        }

        var response = await admin.PostAsJsonAsync("/api/v1/admin/tenants", body);
        return (await response.ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
    }

    public async Task<JsonNode> CreateUserAsync(string tenantId, object body)
    {
        using var admin = await AdminAsync();
        var response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/users", body);
        return (await response.ReadJsonAsync(201))["data"]!;
    }

    /// <summary>
    /// A user; one with a password is created without the welcome email (its verification link), so tests that count
    /// a user's mails see only the ones they cause. Without a password the invitation is sent as by default.
    /// </summary>
    public async Task<string> CreateUserIdAsync(string tenantId, string? email = null, string? password = null) =>
        (await CreateUserAsync(tenantId, new { email = email ?? $"u{Guid.NewGuid():N}@example.com", password, send_welcome_email = password is null }))["id"]!.GetValue<string>();

    /// <summary>An admin service client registered through the API (no roles yet), with its one-time secret.</summary>
    public async Task<(string Id, string ClientId, string Secret)> CreateAdminClientAsync(string? partnerId = null)
    {
        using var admin = await AdminAsync();
        var response = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { name = "Client " + Guid.NewGuid().ToString("N")[..8], partner_id = partnerId });
        var data = (await response.ReadJsonAsync(201))["data"]!;
        return (data["id"]!.GetValue<string>(), data["client_id"]!.GetValue<string>(), data["client_secret"]!.GetValue<string>());
    }

    /// <summary>A bearer client for a new admin client holding exactly these roles, granted through the API.</summary>
    public async Task<HttpClient> ClientWithRolesAsync(params (string Role, string? PartnerId, string? TenantId)[] grants)
    {
        var (_, clientId, secret) = await CreateAdminClientAsync();
        using var admin = await AdminAsync();
        foreach (var (role, partnerId, tenantId) in grants)
        {
            var response = await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
                new { principal_type = "CLIENT", principal_id = clientId, role, partner_id = partnerId, tenant_id = tenantId });
            await response.ShouldBeAsync(201);
        }

        return WithToken(await GetTokenAsync(clientId, secret));
    }

    public async Task<string> CreateAsync(string path, object body)
    {
        using var admin = await AdminAsync();
        var response = await admin.PostAsJsonAsync(path, body);
        return (await response.ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
    }
}

/// <summary>One running instance of the service.</summary>
public sealed class ScaiKeyHost(TestDatabase database, Action<IWebHostBuilder>? configure) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ScaiKey:Database:Provider", database.Provider);
        builder.UseSetting("ConnectionStrings:Default", database.ConnectionString);
        builder.UseSetting("ScaiKey:DataDirectory", database.Directory);
        builder.UseSetting("ScaiKey:KeyEncryptionKey", ScaiKeyApp.KeyEncryptionKey);
        builder.UseSetting("ScaiKey:Bootstrap:ClientId", ScaiKeyApp.AdminClientId);
        builder.UseSetting("ScaiKey:Bootstrap:ClientSecret", ScaiKeyApp.AdminClientSecret);
        // Every test request comes from one address; tests of the limits themselves set their own.
        builder.UseSetting("ScaiKey:RateLimits:PerIpPerMinute", "1000000");
        builder.UseSetting("ScaiKey:RateLimits:PerAccountPerMinute", "1000000");
        // As an operator without ScaiKey:Issuer would: the names the tests reach the service by (the test server's
        // and the Kestrel hosts' of the browser tests), so the forgot-password page may mail links on them.
        builder.UseSetting("AllowedHosts", "localhost;127.0.0.1");
        // Tests that purge call Housekeeping themselves; a timer must not purge rows other tests set up.
        builder.UseSetting("ScaiKey:Housekeeping:Enabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Warning");
        configure?.Invoke(builder);
    }
}

public static class HttpAssertions
{
    /// <summary>Asserts the status and returns the JSON body; on a mismatch the message carries the body.</summary>
    public static async Task<JsonNode> ReadJsonAsync(this HttpResponseMessage response, int expectedStatus)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus,
            $"expected {expectedStatus}, got {(int)response.StatusCode} for {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}\n{body}");
        return body.Length == 0 ? new JsonObject() : JsonNode.Parse(body)!;
    }

    public static async Task ShouldBeAsync(this HttpResponseMessage response, int expectedStatus)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus,
            $"expected {expectedStatus}, got {(int)response.StatusCode} for {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}\n{body}");
    }

    /// <summary>Asserts a problem+json response with the status.</summary>
    public static async Task<JsonNode> ReadProblemAsync(this HttpResponseMessage response, int expectedStatus)
    {
        var json = await response.ReadJsonAsync(expectedStatus);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expectedStatus, json["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(json["detail"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(json["request_id"]?.GetValue<string>()));
        return json;
    }

    /// <summary>Asserts a 422 and returns its errors as "loc|type" strings, e.g. "body.email|value_error".</summary>
    public static async Task<List<string>> ReadValidationErrorsAsync(this HttpResponseMessage response)
    {
        var json = await response.ReadJsonAsync(422);
        return json["detail"]!.AsArray()
            .Select(e => string.Join(".", e!["loc"]!.AsArray().Select(l => l!.ToString())) + "|" + e["type"]!.GetValue<string>())
            .ToList();
    }

    public static StringContent Json(string raw) => new(raw, System.Text.Encoding.UTF8, "application/json");

    public static StringContent Json(object value) => new(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");
}
