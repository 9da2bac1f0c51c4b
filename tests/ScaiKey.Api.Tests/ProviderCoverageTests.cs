namespace ScaiKey.Api.Tests;

/// <summary>
/// Whoever can re-point an identity provider can sign in as every user linked to it: changing a provider needs the
/// same reach as changing those users (found in the attacker's review of federation).
/// </summary>
public sealed class ProviderCoverageTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task A_tenant_admin_cannot_re_point_a_provider_that_signs_in_a_wider_admin()
    {
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Partner " + Guid.NewGuid().ToString("N")[..8] });
        var tenant = await app.CreateTenantAsync(partnerId: partner);
        var provider = await app.CreateAsync($"/api/v1/tenants/{tenant}/identity-providers", new
        {
            name = "Corporate IdP",
            type = "OIDC",
            config = new { issuer = "https://login.example.com", client_id = "scaikey" },
        });
        var boss = await app.CreateUserIdAsync(tenant, "boss@example.com", "Quartz-Lantern-93!");
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{boss}/federated-identities",
            new { identity_provider_id = provider, subject = "boss-at-idp" })).ShouldBeAsync(201);
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        var url = $"/api/v1/tenants/{tenant}/identity-providers/{provider}";

        // Control: while the linked user holds no role beyond the tenant admin's, the tenant admin may change it.
        await (await tenantAdmin.PatchAsJsonAsync(url, new { config = new { issuer = "https://login2.example.com" } })).ShouldBeAsync(200);

        await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = boss, role = "PARTNER_ADMIN", partner_id = partner })).ShouldBeAsync(201);
        await (await tenantAdmin.PatchAsJsonAsync(url, new { config = new { issuer = "https://attacker.example.net" } })).ReadProblemAsync(403);
        await (await tenantAdmin.PatchAsJsonAsync(url, new { enabled = false })).ReadProblemAsync(403);

        // Reading stays allowed, and an admin covering the partner admin may still change it.
        await (await tenantAdmin.GetAsync(url)).ShouldBeAsync(200);
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));
        await (await partnerAdmin.PatchAsJsonAsync(url, new { config = new { issuer = "https://login3.example.com" } })).ShouldBeAsync(200);
    }
}
