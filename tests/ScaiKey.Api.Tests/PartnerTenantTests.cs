namespace ScaiKey.Api.Tests;

/// <summary>Partner admins run their own tenants through /api/v1/admin/tenants and cannot reach anyone else's.</summary>
public sealed class PartnerTenantTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Path = "/api/v1/admin/tenants";

    [Fact]
    public async Task Partner_admin_creates_lists_updates_and_deletes_only_its_own_tenants()
    {
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Reseller " + Guid.NewGuid().ToString("N")[..6] });
        var other = await app.CreateAsync("/api/v1/admin/partners", new { name = "Reseller " + Guid.NewGuid().ToString("N")[..6] });
        var foreign = await app.CreateTenantAsync(partnerId: other);
        var unpartnered = await app.CreateTenantAsync();
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));

        var created = await (await partnerAdmin.PostAsJsonAsync(Path, new { name = "Acme " + Guid.NewGuid().ToString("N")[..6] })).ReadJsonAsync(201);
        var own = created["data"]!["id"]!.GetValue<string>();
        Assert.Equal(partner, created["data"]!["partner_id"]!.GetValue<string>());
        await (await partnerAdmin.PostAsJsonAsync(Path, new { name = "Elsewhere", partner_id = other })).ReadProblemAsync(403);

        var listed = await (await partnerAdmin.GetAsync(Path + "?per_page=100")).ReadJsonAsync(200);
        Assert.Equal([own], listed["data"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).ToList());
        await (await partnerAdmin.GetAsync($"{Path}?partner_id={other}")).ReadProblemAsync(403);

        await (await partnerAdmin.GetAsync($"{Path}/{foreign}")).ReadProblemAsync(404);
        await (await partnerAdmin.GetAsync($"{Path}/{unpartnered}")).ReadProblemAsync(404);
        await (await partnerAdmin.PatchAsJsonAsync($"{Path}/{foreign}", new { name = "Mine now" })).ReadProblemAsync(404);
        await (await partnerAdmin.DeleteAsync($"{Path}/{foreign}")).ReadProblemAsync(404);
        await (await partnerAdmin.PatchAsJsonAsync($"{Path}/{own}", new { partner_id = other })).ReadProblemAsync(403);
        await (await partnerAdmin.PatchAsJsonAsync($"{Path}/{own}", new { partner_id = (string?)null })).ReadProblemAsync(403);

        await (await partnerAdmin.PatchAsJsonAsync($"{Path}/{own}", new { name = "Acme Renamed" })).ShouldBeAsync(200);
        await (await partnerAdmin.GetAsync($"/api/v1/tenants/{own}/users")).ShouldBeAsync(200);
        await (await partnerAdmin.DeleteAsync($"{Path}/{own}")).ShouldBeAsync(204);

        // Partners themselves stay a platform matter.
        await (await partnerAdmin.GetAsync("/api/v1/admin/partners")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task Tenant_roles_get_403_on_tenant_administration()
    {
        var tenant = await app.CreateTenantAsync();
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        await (await tenantAdmin.GetAsync(Path)).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"{Path}/{tenant}")).ReadProblemAsync(403);
        await (await tenantAdmin.PostAsJsonAsync(Path, new { name = "Mine" })).ReadProblemAsync(403);
    }
}
