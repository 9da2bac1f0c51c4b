using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>/api/v1/admin/clients: admin service clients, their one-time secrets, rotation and removal.</summary>
public sealed class AdminClientTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Path = "/api/v1/admin/clients";

    private async Task<HttpResponseMessage> RequestTokenAsync(string clientId, string secret)
    {
        using var client = app.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task New_client_gets_its_secret_once_and_no_rights_until_granted()
    {
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync(Path, new { name = "CI deployer" })).ReadJsonAsync(201);
        var data = created["data"]!;
        var id = data["id"]!.GetValue<string>();
        var clientId = data["client_id"]!.GetValue<string>();
        var secret = data["client_secret"]!.GetValue<string>();
        Assert.True(secret.Length >= 40);
        Assert.Equal("CI deployer", data["name"]!.GetValue<string>());

        var read = await (await admin.GetAsync($"{Path}/{id}")).ReadJsonAsync(200);
        Assert.Null(read["data"]!["client_secret"]);
        var list = await (await admin.GetAsync(Path + "?per_page=100")).ReadJsonAsync(200);
        Assert.DoesNotContain(secret, list.ToJsonString(), StringComparison.Ordinal);

        var stored = await app.DbAsync(db => db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>()
            .Where(a => a.ClientId == clientId).Select(a => a.ClientSecret).SingleAsync());
        Assert.NotEqual(secret, stored);
        Assert.DoesNotContain(secret, stored ?? string.Empty, StringComparison.Ordinal);

        using var client = app.WithToken(await app.GetTokenAsync(clientId, secret));
        await (await client.GetAsync("/api/v1/admin/users/")).ReadProblemAsync(403);
        var tenant = await app.CreateTenantAsync();
        await (await client.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task Rotating_the_secret_retires_the_old_one()
    {
        var (id, clientId, oldSecret) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        var rotated = await (await admin.PostAsync($"{Path}/{id}/secret", null)).ReadJsonAsync(200);
        var newSecret = rotated["data"]!["client_secret"]!.GetValue<string>();
        Assert.NotEqual(oldSecret, newSecret);

        var refused = await RequestTokenAsync(clientId, oldSecret);
        Assert.False(refused.IsSuccessStatusCode);
        Assert.Contains("invalid_client", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        (await RequestTokenAsync(clientId, newSecret)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Deleted_client_loses_its_tokens_roles_and_registration_at_once()
    {
        var tenant = await app.CreateTenantAsync();
        var (id, clientId, secret) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "CLIENT", principal_id = clientId, role = "TENANT_ADMIN", tenant_id = tenant })).ShouldBeAsync(201);
        using var client = app.WithToken(await app.GetTokenAsync(clientId, secret));
        await (await client.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"{Path}/{id}")).ShouldBeAsync(204);

        // Refused as a revoked token (401), not merely without roles.
        await (await client.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(401);
        Assert.Contains("invalid_client", await (await RequestTokenAsync(clientId, secret)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.RoleAssignments.CountAsync(r => r.PrincipalId == clientId)));
        await (await admin.GetAsync($"{Path}/{id}")).ReadProblemAsync(404);

        var audit = await (await admin.GetAsync($"/api/v1/admin/audit-events?target_id={id}")).ReadJsonAsync(200);
        Assert.Equal(["admin_client.deleted", "admin_client.created"], audit["data"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()).ToList());
    }

    [Fact]
    public async Task The_client_holding_the_last_platform_admin_role_cannot_be_deleted()
    {
        using var admin = await app.AdminAsync();
        var bootstrap = await (await admin.GetAsync(Path + "?per_page=100")).ReadJsonAsync(200);
        var own = bootstrap["data"]!.AsArray().Single(c => c!["client_id"]!.GetValue<string>() == ScaiKeyApp.AdminClientId)!["id"]!.GetValue<string>();
        await (await admin.DeleteAsync($"{Path}/{own}")).ReadProblemAsync(409);
        await (await admin.GetAsync(Path)).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Partner_admins_manage_only_their_partners_clients()
    {
        using var admin = await app.AdminAsync();
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Reseller " + Guid.NewGuid().ToString("N")[..6] });
        var other = await app.CreateAsync("/api/v1/admin/partners", new { name = "Reseller " + Guid.NewGuid().ToString("N")[..6] });
        var (foreignId, _, _) = await app.CreateAdminClientAsync(other);
        var (platformOwnedId, _, _) = await app.CreateAdminClientAsync();
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));

        var created = await (await partnerAdmin.PostAsJsonAsync(Path, new { name = "Partner automation" })).ReadJsonAsync(201);
        Assert.Equal(partner, created["data"]!["partner_id"]!.GetValue<string>());
        await (await partnerAdmin.PostAsJsonAsync(Path, new { name = "Sneaky", partner_id = other })).ReadProblemAsync(403);

        var listed = await (await partnerAdmin.GetAsync(Path + "?per_page=100")).ReadJsonAsync(200);
        Assert.All(listed["data"]!.AsArray(), c => Assert.Equal(partner, c!["partner_id"]!.GetValue<string>()));
        Assert.Equal(1, listed["pagination"]!["total_items"]!.GetValue<int>());
        await (await partnerAdmin.GetAsync($"{Path}/{foreignId}")).ReadProblemAsync(404);
        await (await partnerAdmin.GetAsync($"{Path}/{platformOwnedId}")).ReadProblemAsync(404);
        await (await partnerAdmin.DeleteAsync($"{Path}/{foreignId}")).ReadProblemAsync(404);
        await (await partnerAdmin.PostAsync($"{Path}/{foreignId}/secret", null)).ReadProblemAsync(404);
        await (await partnerAdmin.GetAsync($"{Path}?partner_id={other}")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task Invalid_client_requests_are_422()
    {
        using var admin = await app.AdminAsync();
        Assert.Equal(["body.name|missing"], await (await admin.PostAsync(Path, HttpAssertions.Json("{}"))).ReadValidationErrorsAsync());
        Assert.Equal(["body.name|string_too_short"], await (await admin.PostAsJsonAsync(Path, new { name = "  " })).ReadValidationErrorsAsync());
        Assert.Equal(["body.partner_id|value_error"], await (await admin.PostAsJsonAsync(Path, new { name = "x", partner_id = "nope" })).ReadValidationErrorsAsync());
        Assert.Equal(["body.client_secret|extra_forbidden"], await (await admin.PostAsJsonAsync(Path, new { name = "x", client_secret = "mine" })).ReadValidationErrorsAsync());
    }
}
