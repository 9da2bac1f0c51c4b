using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests.Scim;

/// <summary>/api/v1/tenants/{tenant_id}/scim/tokens: create (shown once, stored hashed), list without secrets, delete ends it at once.</summary>
public sealed class ScimTokenTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static string Path(string tenant) => $"/api/v1/tenants/{tenant}/scim/tokens";

    [Fact]
    public async Task A_created_token_is_shown_once_stored_as_its_sha256_and_listed_without_secret()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var created = (await (await admin.PostAsJsonAsync(Path(tenant), new { name = "Entra ID", expires_at = DateTime.UtcNow.AddDays(30) })).ReadJsonAsync(201))["data"]!;
        var token = created["token"]!.GetValue<string>();
        Assert.Matches("^scim_[A-Za-z0-9_-]{43}$", token);
        Assert.Equal(token[..12], created["prefix"]!.GetValue<string>());
        Assert.Equal("Entra ID", created["name"]!.GetValue<string>());
        Assert.NotNull(created["expires_at"]);

        var stored = await app.DbAsync(db => db.ScimTokens.SingleAsync(t => t.TenantId == tenant));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))), stored.TokenHash);
        Assert.DoesNotContain(token, stored.TokenHash);

        var listBody = await (await admin.GetAsync(Path(tenant))).Content.ReadAsStringAsync();
        Assert.DoesNotContain(token, listBody);
        Assert.DoesNotContain("token_hash", listBody);
        var list = System.Text.Json.Nodes.JsonNode.Parse(listBody)!;
        Assert.Equal(created.Id(), list["data"]![0]!.Id());
        Assert.True(list["data"]![0]!.AsObject().ContainsKey("last_used_at"));

        var audit = await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == created.Id()).Select(e => e.Action).ToListAsync());
        Assert.Contains("scim_token.created", audit);
    }

    // The list pages like every other list (Http/PagedList.cs): newest first, ties by id, the exact total on every page.
    [Fact]
    public async Task The_list_pages_newest_first_with_the_exact_total_on_every_page()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        foreach (var name in new[] { "first", "second", "third" })
        {
            await (await admin.PostAsJsonAsync(Path(tenant), new { name })).ShouldBeAsync(201);
        }

        var expected = await app.DbAsync(db => db.ScimTokens.Where(t => t.TenantId == tenant).ToListAsync());
        var order = expected.OrderByDescending(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal).Select(t => t.Id).ToList();
        var listed = new List<string>();
        foreach (var page in new[] { 1, 2, 3 })
        {
            var body = await (await admin.GetAsync($"{Path(tenant)}?page={page}&per_page=2")).ReadJsonAsync(200);
            Assert.Equal(3, body["pagination"]!["total_items"]!.GetValue<int>());
            Assert.Equal(2, body["pagination"]!["total_pages"]!.GetValue<int>());
            listed.AddRange(body["data"]!.AsArray().Select(t => t!.Id()));
        }

        // Page 3 is past the end: empty, with the same total.
        Assert.Equal(order, listed);
    }

    [Fact]
    public async Task A_deleted_token_stops_working_at_once()
    {
        var tenant = await app.CreateTenantAsync();
        var (id, token) = await ScimKit.CreateTokenAsync(app, tenant);
        using var scim = app.WithToken(token);
        await (await scim.GetAsync("/scim/v2/Users")).ShouldBeAsync(200);

        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"{Path(tenant)}/{id}")).ShouldBeAsync(204);

        var refused = await scim.GetAsync("/scim/v2/Users");
        await refused.ReadScimErrorAsync(401);
        Assert.StartsWith("Bearer", refused.Headers.WwwAuthenticate.ToString());
        await (await admin.DeleteAsync($"{Path(tenant)}/{id}")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var tenant = await app.CreateTenantAsync();
        var (id, token) = await ScimKit.CreateTokenAsync(app, tenant, DateTime.UtcNow.AddMinutes(5).ToString("O"));
        using var scim = app.WithToken(token);
        await (await scim.GetAsync("/scim/v2/Users")).ShouldBeAsync(200);

        await app.DbAsync(db => db.ScimTokens.Where(t => t.Id == id).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));
        await (await scim.GetAsync("/scim/v2/Users")).ReadScimErrorAsync(401);
    }

    [Fact]
    public async Task Bad_name_and_past_expiry_are_422()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var errors = await (await admin.PostAsJsonAsync(Path(tenant), new { name = "  ", expires_at = DateTime.UtcNow.AddDays(-1) })).ReadValidationErrorsAsync();
        Assert.Contains("body.name|string_too_short", errors);
        Assert.Contains("body.expires_at|value_error", errors);
        Assert.Contains("body.expires_at|datetime_parsing", await (await admin.PostAsJsonAsync(Path(tenant), new { name = "x", expires_at = "tomorrow" })).ReadValidationErrorsAsync());
        Assert.Contains("body.name|missing", await (await admin.PostAsJsonAsync(Path(tenant), new { })).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task Only_tenant_admins_and_above_manage_tokens()
    {
        var tenant = await app.CreateTenantAsync();
        using var helpdesk = await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, tenant));
        await (await helpdesk.PostAsJsonAsync(Path(tenant), new { name = "x" })).ReadProblemAsync(403);
        await (await helpdesk.GetAsync(Path(tenant))).ReadProblemAsync(403);

        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        await (await tenantAdmin.PostAsJsonAsync(Path(tenant), new { name = "x" })).ShouldBeAsync(201);
        await (await tenantAdmin.GetAsync(Path(tenant))).ShouldBeAsync(200);
    }
}
