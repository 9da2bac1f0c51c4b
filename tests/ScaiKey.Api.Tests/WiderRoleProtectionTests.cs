using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Nobody takes over a principal holding roles beyond their own: no password reset, status change, edit or delete
/// of such a user, no rotation or deletion of such a client, and partner-owned clients stay within their partner.
/// </summary>
public sealed class WiderRoleProtectionTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private async Task<string> PartnerAsync() => await app.CreateAsync("/api/v1/admin/partners", new { name = "Partner " + Guid.NewGuid().ToString("N")[..8] });

    private async Task GrantUserAsync(string userId, string role, string? partnerId = null, string? tenantId = null)
    {
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = userId, role, partner_id = partnerId, tenant_id = tenantId })).ShouldBeAsync(201);
    }

    [Fact]
    public async Task Tenant_staff_and_partner_admins_cannot_change_a_user_who_holds_a_wider_role()
    {
        var partner = await PartnerAsync();
        var tenant = await app.CreateTenantAsync(partnerId: partner);
        var boss = await app.CreateUserIdAsync(tenant, "boss@example.com", "Quartz-Lantern-93!");
        await GrantUserAsync(boss, "PLATFORM_ADMIN");
        using var helpdesk = await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, tenant));
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));

        await (await helpdesk.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{boss}/password/reset", new { method = "TEMPORARY" })).ReadProblemAsync(403);
        await (await helpdesk.PutAsJsonAsync($"/api/v1/tenants/{tenant}/users/{boss}/status", new { status = "DISABLED" })).ReadProblemAsync(403);
        await (await tenantAdmin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{boss}", new { email = "mine@example.com" })).ReadProblemAsync(403);
        await (await tenantAdmin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{boss}?confirm_email=boss%40example.com")).ReadProblemAsync(403);
        await (await partnerAdmin.PostAsJsonAsync($"/api/v1/admin/users/{boss}/reset-password", new { new_password = "Taken-Over-12345!" })).ReadProblemAsync(403);
        await (await partnerAdmin.PostAsync($"/api/v1/admin/users/{boss}/mfa/disable", null)).ReadProblemAsync(403);

        // Reading stays allowed, and a platform admin may still act.
        await (await helpdesk.GetAsync($"/api/v1/tenants/{tenant}/users/{boss}")).ShouldBeAsync(200);
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{boss}/password/reset", new { method = "TEMPORARY" })).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Roles_within_the_callers_own_reach_do_not_block_it()
    {
        var partner = await PartnerAsync();
        var tenant = await app.CreateTenantAsync(partnerId: partner);
        var viewer = await app.CreateUserIdAsync(tenant);
        await GrantUserAsync(viewer, "TENANT_VIEWER", tenantId: tenant);
        var tenantBoss = await app.CreateUserIdAsync(tenant);
        await GrantUserAsync(tenantBoss, "TENANT_ADMIN", tenantId: tenant);
        using var helpdesk = await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, tenant));
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));

        await (await helpdesk.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{viewer}/password/reset", new { method = "TEMPORARY" })).ShouldBeAsync(200);
        await (await helpdesk.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{tenantBoss}/password/reset", new { method = "TEMPORARY" })).ReadProblemAsync(403);
        await (await partnerAdmin.PostAsJsonAsync($"/api/v1/admin/users/{tenantBoss}/reset-password", new { new_password = "Partner-Resets-123!" })).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Linking_a_federated_identity_to_a_user_with_a_wider_role_is_refused_like_any_change_to_them()
    {
        var partner = await PartnerAsync();
        var tenant = await app.CreateTenantAsync(partnerId: partner);
        var provider = await app.CreateAsync($"/api/v1/tenants/{tenant}/identity-providers",
            new { name = "Corp", type = "OIDC", config = new { issuer = "https://idp.example.com", client_id = "scaikey" } });
        var boss = await app.CreateUserIdAsync(tenant, "partner-boss@example.com", "Quartz-Lantern-93!");
        await GrantUserAsync(boss, "PARTNER_ADMIN", partnerId: partner);
        var plain = await app.CreateUserIdAsync(tenant);
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));

        // A link is a way to sign in as the user: a tenant admin may not plant one on a partner admin.
        await (await tenantAdmin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{boss}/federated-identities",
            new { identity_provider_id = provider, subject = "attacker-account" })).ReadProblemAsync(403);
        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == boss)));

        // Control: a user within the tenant admin's reach, and the partner admin acting on their peer.
        await (await tenantAdmin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{plain}/federated-identities",
            new { identity_provider_id = provider, subject = "plain-account" })).ShouldBeAsync(201);
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));
        await (await partnerAdmin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{boss}/federated-identities",
            new { identity_provider_id = provider, subject = "boss-account" })).ShouldBeAsync(201);
    }

    [Fact]
    public async Task A_partner_owned_client_holds_roles_only_within_its_partner()
    {
        var partner = await PartnerAsync();
        var other = await PartnerAsync();
        var foreignTenant = await app.CreateTenantAsync(partnerId: other);
        var ownTenant = await app.CreateTenantAsync(partnerId: partner);
        var (_, clientId, _) = await app.CreateAdminClientAsync(partner);
        using var admin = await app.AdminAsync();
        async Task<HttpResponseMessage> GrantAsync(string role, string? partnerId = null, string? tenantId = null) =>
            await admin.PostAsJsonAsync("/api/v1/admin/role-assignments", new { principal_type = "CLIENT", principal_id = clientId, role, partner_id = partnerId, tenant_id = tenantId });

        Assert.Equal(["body.role|value_error"], await (await GrantAsync("PLATFORM_ADMIN")).ReadValidationErrorsAsync());
        Assert.Equal(["body.role|value_error"], await (await GrantAsync("PARTNER_ADMIN", partnerId: other)).ReadValidationErrorsAsync());
        Assert.Equal(["body.role|value_error"], await (await GrantAsync("TENANT_ADMIN", tenantId: foreignTenant)).ReadValidationErrorsAsync());
        await (await GrantAsync("TENANT_ADMIN", tenantId: ownTenant)).ShouldBeAsync(201);
        await (await GrantAsync("PARTNER_ADMIN", partnerId: partner)).ShouldBeAsync(201);
    }

    [Fact]
    public async Task A_partner_admin_cannot_rotate_or_delete_a_client_holding_roles_beyond_its_partner()
    {
        var partner = await PartnerAsync();
        var other = await PartnerAsync();
        var (id, clientId, _) = await app.CreateAdminClientAsync(partner);

        // A grant made before ownership rules existed, or by hand in the database: the guard still holds.
        await app.DbAsync(db =>
        {
            db.RoleAssignments.Add(new ScaiKey.Data.Entities.RoleAssignment
            {
                Id = Guid.CreateVersion7().ToString(), PrincipalType = "CLIENT", PrincipalId = clientId, Role = "PARTNER_ADMIN",
                PartnerId = other, CreatedAt = DateTime.UtcNow,
            });
            return db.SaveChangesAsync();
        });
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));
        await (await partnerAdmin.PostAsync($"/api/v1/admin/clients/{id}/secret", null)).ReadProblemAsync(403);
        await (await partnerAdmin.DeleteAsync($"/api/v1/admin/clients/{id}")).ReadProblemAsync(403);
        Assert.Equal(1, await app.DbAsync(db => db.AdminClients.CountAsync(c => c.Id == id)));
    }

    [Fact]
    public async Task Concurrent_rotations_and_a_delete_of_one_client_never_fail_with_500()
    {
        var (id, _, _) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        var requests = Enumerable.Range(0, 4).Select(_ => admin.PostAsync($"/api/v1/admin/clients/{id}/secret", null))
            .Append(admin.DeleteAsync($"/api/v1/admin/clients/{id}"));
        var statuses = (await Task.WhenAll(requests)).Select(r => (int)r.StatusCode).ToList();
        Assert.All(statuses, s => Assert.Contains(s, new[] { 200, 204, 404 }));
        Assert.Contains(204, statuses);
    }
}
