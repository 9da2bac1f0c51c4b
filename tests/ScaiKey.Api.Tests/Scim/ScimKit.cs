using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Tests.Scim;

/// <summary>SCIM test helpers: a tenant with a provisioning token, and requests as provisioning clients send them.</summary>
internal static class ScimKit
{
    public const string UserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string GroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

    public static async Task<(string Id, string Token)> CreateTokenAsync(ScaiKeyApp app, string tenantId, string? expiresAt = null)
    {
        using var admin = await app.AdminAsync();
        var response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/scim/tokens", new { name = "Entra ID " + Guid.NewGuid().ToString("N")[..6], expires_at = expiresAt });
        var data = (await response.ReadJsonAsync(201))["data"]!;
        return (data["id"]!.GetValue<string>(), data["token"]!.GetValue<string>());
    }

    /// <summary>A new tenant and a client holding its SCIM token.</summary>
    public static async Task<(string Tenant, string TokenId, HttpClient Client)> TenantAsync(ScaiKeyApp app)
    {
        var tenant = await app.CreateTenantAsync();
        var (id, token) = await CreateTokenAsync(app, tenant);
        return (tenant, id, app.WithToken(token));
    }

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string path, object? body = null, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            var json = body is string raw ? raw : body is JsonNode node ? node.ToJsonString() : System.Text.Json.JsonSerializer.Serialize(body);
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/scim+json");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return client.SendAsync(request);
    }

    public static object NewUser(string userName, string? email = null, bool active = true, string? externalId = null) => new JsonObject
    {
        ["schemas"] = new JsonArray(UserSchema),
        ["externalId"] = externalId ?? Guid.NewGuid().ToString(),
        ["userName"] = userName,
        ["active"] = active,
        ["displayName"] = "Test User",
        ["emails"] = new JsonArray(new JsonObject { ["primary"] = true, ["type"] = "work", ["value"] = email ?? userName }),
        ["name"] = new JsonObject { ["givenName"] = "Test", ["familyName"] = "User" },
    };

    public static async Task<JsonNode> CreateUserAsync(HttpClient scim, string? userName = null)
    {
        var response = await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", NewUser(userName ?? $"u{Guid.NewGuid():N}@example.com"));
        return await response.ReadJsonAsync(201);
    }

    public static JsonObject Patch(params JsonObject[] operations) => new()
    {
        ["schemas"] = new JsonArray(PatchOpSchema),
        ["Operations"] = new JsonArray(operations),
    };

    /// <summary>Asserts a SCIM error: the status, the Error schema, scimType when given, and a detail.</summary>
    public static async Task<JsonNode> ReadScimErrorAsync(this HttpResponseMessage response, int status, string? scimType = null)
    {
        var body = await response.ReadJsonAsync(status);
        Assert.Equal("application/scim+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ErrorSchema, body["schemas"]![0]!.GetValue<string>());
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), body["status"]!.GetValue<string>());
        if (scimType is not null)
        {
            Assert.True(scimType == body["scimType"]?.GetValue<string>(), body.ToJsonString());
        }

        Assert.False(string.IsNullOrEmpty(body["detail"]?.GetValue<string>()));
        return body;
    }

    public static string Id(this JsonNode node) => node["id"]!.GetValue<string>();
}
