namespace ScaiKey.Api.Tests;

/// <summary>
/// /api/v1/admin/role-assignments: roles are granted and revoked through the API, take effect at once, and nobody
/// can grant a role wider than their own (platform.md, "Who may do what").
/// </summary>
public sealed class RoleAssignmentTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Path = "/api/v1/admin/role-assignments";

    private async Task<string> PartnerAsync() => await app.CreateAsync("/api/v1/admin/partners", new { name = "Partner " + Guid.NewGuid().ToString("N")[..8] });

    private static object Grant(string clientId, string role, string? partnerId = null, string? tenantId = null) =>
        new { principal_type = "CLIENT", principal_id = clientId, role, partner_id = partnerId, tenant_id = tenantId };

    [Fact]
    public async Task Granted_tenant_admin_reaches_its_tenant_and_nothing_else()
    {
        var a = await app.CreateTenantAsync();
        var b = await app.CreateTenantAsync();
        var (_, clientId, secret) = await app.CreateAdminClientAsync();
        using var client = app.WithToken(await app.GetTokenAsync(clientId, secret));
        await (await client.GetAsync($"/api/v1/tenants/{a}/users")).ShouldBeAsync(403);

        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync(Path, Grant(clientId, "TENANT_ADMIN", tenantId: a))).ReadJsonAsync(201);
        Assert.Equal("TENANT_ADMIN", created["data"]!["role"]!.GetValue<string>());
        Assert.Equal(a, created["data"]!["tenant_id"]!.GetValue<string>());

        await (await client.GetAsync($"/api/v1/tenants/{a}/users")).ShouldBeAsync(200);
        await (await client.GetAsync($"/api/v1/tenants/{b}/users")).ShouldBeAsync(403);
        await (await client.GetAsync("/api/v1/admin/users/")).ShouldBeAsync(403);
        await (await client.GetAsync(Path)).ShouldBeAsync(403);
    }

    [Fact]
    public async Task Revoked_role_stops_working_on_the_next_request()
    {
        var tenant = await app.CreateTenantAsync();
        var (_, clientId, secret) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        var id = (await (await admin.PostAsJsonAsync(Path, Grant(clientId, "TENANT_VIEWER", tenantId: tenant))).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        using var client = app.WithToken(await app.GetTokenAsync(clientId, secret));
        await (await client.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"{Path}/{id}")).ShouldBeAsync(204);

        await (await client.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(403);
        await (await admin.GetAsync($"{Path}/{id}")).ShouldBeAsync(404);
    }

    [Fact]
    public async Task Invalid_grants_list_every_failing_field()
    {
        using var admin = await app.AdminAsync();
        var empty = await admin.PostAsync(Path, HttpAssertions.Json("{}"));
        Assert.Equal(
            ["body.principal_type|missing", "body.principal_id|missing", "body.role|missing"],
            await empty.ReadValidationErrorsAsync());

        var partnerRoleWithoutPartner = await admin.PostAsJsonAsync(Path, Grant("x", "PARTNER_ADMIN"));
        Assert.Contains(await partnerRoleWithoutPartner.ReadValidationErrorsAsync(), e => e.StartsWith("body.partner_id|", StringComparison.Ordinal));

        var viewerWithPartner = await admin.PostAsJsonAsync(Path, Grant("x", "TENANT_VIEWER", partnerId: "p"));
        var locs = (await viewerWithPartner.ReadValidationErrorsAsync()).Select(e => e.Split('|')[0]).ToList();
        Assert.Contains("body.partner_id", locs);
        Assert.Contains("body.tenant_id", locs);

        var platformWithTenant = await admin.PostAsJsonAsync(Path, Grant("x", "PLATFORM_ADMIN", tenantId: "t"));
        Assert.Contains(await platformWithTenant.ReadValidationErrorsAsync(), e => e.StartsWith("body.tenant_id|", StringComparison.Ordinal));

        var badEnums = await admin.PostAsJsonAsync(Path, new { principal_type = "GROUP", principal_id = "x", role = "SUPERUSER" });
        var enumErrors = await badEnums.ReadValidationErrorsAsync();
        Assert.Contains(enumErrors, e => e.StartsWith("body.principal_type|", StringComparison.Ordinal) && e.EndsWith("|enum", StringComparison.Ordinal));
        Assert.Contains(enumErrors, e => e.StartsWith("body.role|", StringComparison.Ordinal));

        var extra = await admin.PostAsJsonAsync(Path, new { principal_type = "CLIENT", principal_id = "x", role = "PLATFORM_ADMIN", scope = "all" });
        Assert.Contains(await extra.ReadValidationErrorsAsync(), e => e.StartsWith("body.scope|", StringComparison.Ordinal) && e.EndsWith("|extra_forbidden", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_principals_tenants_and_partners_are_422_on_their_field()
    {
        var tenant = await app.CreateTenantAsync();
        var (_, clientId, _) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();

        var ghostClient = await admin.PostAsJsonAsync(Path, Grant("no-such-client", "TENANT_ADMIN", tenantId: tenant));
        Assert.Contains(await ghostClient.ReadValidationErrorsAsync(), e => e.StartsWith("body.principal_id|", StringComparison.Ordinal));

        var ghostTenant = await admin.PostAsJsonAsync(Path, Grant(clientId, "TENANT_ADMIN", tenantId: "no-such-tenant"));
        Assert.Contains(await ghostTenant.ReadValidationErrorsAsync(), e => e.StartsWith("body.tenant_id|", StringComparison.Ordinal));

        var ghostPartner = await admin.PostAsJsonAsync(Path, Grant(clientId, "PARTNER_ADMIN", partnerId: "no-such-partner"));
        Assert.Contains(await ghostPartner.ReadValidationErrorsAsync(), e => e.StartsWith("body.partner_id|", StringComparison.Ordinal));

        // Application clients are not admin principals: roles go to admin clients and users only.
        var userId = await app.CreateUserIdAsync(tenant);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{userId}?confirm_email=" + Uri.EscapeDataString(
            (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{userId}")).ReadJsonAsync(200))["data"]!["email"]!.GetValue<string>()))).ShouldBeAsync(204);
        var deletedUser = await admin.PostAsJsonAsync(Path, new { principal_type = "USER", principal_id = userId, role = "TENANT_VIEWER", tenant_id = tenant });
        Assert.Contains(await deletedUser.ReadValidationErrorsAsync(), e => e.StartsWith("body.principal_id|", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Users_can_hold_roles_and_the_same_grant_twice_is_a_conflict()
    {
        var tenant = await app.CreateTenantAsync();
        var userId = await app.CreateUserIdAsync(tenant);
        using var admin = await app.AdminAsync();
        var grant = new { principal_type = "USER", principal_id = userId, role = "TENANT_HELPDESK", tenant_id = tenant };
        await (await admin.PostAsJsonAsync(Path, grant)).ShouldBeAsync(201);
        await (await admin.PostAsJsonAsync(Path, grant)).ReadProblemAsync(409);

        var listed = await (await admin.GetAsync($"{Path}?principal_type=USER&principal_id={userId}")).ReadJsonAsync(200);
        Assert.Equal(1, listed["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Equal("TENANT_HELPDESK", listed["data"]![0]!["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Partner_admin_grants_only_inside_its_partner()
    {
        var partner = await PartnerAsync();
        var otherPartner = await PartnerAsync();
        var own = await app.CreateTenantAsync(partnerId: partner);
        var foreign = await app.CreateTenantAsync(partnerId: otherPartner);
        var unpartnered = await app.CreateTenantAsync();
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));
        var (_, target, targetSecret) = await app.CreateAdminClientAsync(partner);
        var (_, platformClient, _) = await app.CreateAdminClientAsync();

        await (await partnerAdmin.PostAsJsonAsync(Path, Grant(target, "PLATFORM_ADMIN"))).ReadProblemAsync(403);
        await (await partnerAdmin.PostAsJsonAsync(Path, Grant(target, "PARTNER_ADMIN", partnerId: otherPartner))).ReadProblemAsync(403);
        await (await partnerAdmin.PostAsJsonAsync(Path, Grant(target, "TENANT_ADMIN", tenantId: foreign))).ReadProblemAsync(403);
        await (await partnerAdmin.PostAsJsonAsync(Path, Grant(target, "TENANT_ADMIN", tenantId: unpartnered))).ReadProblemAsync(403);
        await (await partnerAdmin.PostAsJsonAsync(Path, Grant(target, "TENANT_ADMIN", tenantId: "no-such-tenant"))).ReadProblemAsync(403);

        // A client the partner does not own is not visible to it.
        var notOwned = await partnerAdmin.PostAsJsonAsync(Path, Grant(platformClient, "TENANT_ADMIN", tenantId: own));
        Assert.Contains(await notOwned.ReadValidationErrorsAsync(), e => e.StartsWith("body.principal_id|", StringComparison.Ordinal));

        await (await partnerAdmin.PostAsJsonAsync(Path, Grant(target, "TENANT_HELPDESK", tenantId: own))).ShouldBeAsync(201);
        await (await partnerAdmin.PostAsJsonAsync(Path, Grant(target, "PARTNER_ADMIN", partnerId: partner))).ShouldBeAsync(201);

        using var granted = app.WithToken(await app.GetTokenAsync(target, targetSecret));
        await (await granted.GetAsync($"/api/v1/tenants/{own}/users")).ShouldBeAsync(200);
        await (await granted.GetAsync($"/api/v1/tenants/{foreign}/users")).ShouldBeAsync(403);
    }

    [Fact]
    public async Task Partner_admin_sees_and_revokes_only_assignments_in_its_scope()
    {
        var partner = await PartnerAsync();
        var otherPartner = await PartnerAsync();
        var own = await app.CreateTenantAsync(partnerId: partner);
        var foreign = await app.CreateTenantAsync(partnerId: otherPartner);
        var (_, clientId, _) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        var inside = (await (await admin.PostAsJsonAsync(Path, Grant(clientId, "TENANT_VIEWER", tenantId: own))).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var outside = (await (await admin.PostAsJsonAsync(Path, Grant(clientId, "TENANT_VIEWER", tenantId: foreign))).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));

        var listed = await (await partnerAdmin.GetAsync($"{Path}?per_page=100")).ReadJsonAsync(200);
        var ids = listed["data"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToList();
        Assert.Contains(inside, ids);
        Assert.DoesNotContain(outside, ids);
        Assert.All(listed["data"]!.AsArray(), r => Assert.NotEqual("PLATFORM_ADMIN", r!["role"]!.GetValue<string>()));

        await (await partnerAdmin.GetAsync($"{Path}?partner_id={otherPartner}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"{Path}?tenant_id={foreign}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"{Path}/{outside}")).ReadProblemAsync(404);
        await (await partnerAdmin.DeleteAsync($"{Path}/{outside}")).ReadProblemAsync(404);
        await (await partnerAdmin.DeleteAsync($"{Path}/{inside}")).ShouldBeAsync(204);
        await (await admin.GetAsync($"{Path}/{outside}")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task The_last_platform_admin_cannot_be_revoked()
    {
        using var admin = await app.AdminAsync();
        var (_, second, _) = await app.CreateAdminClientAsync();
        var extra = (await (await admin.PostAsJsonAsync(Path, Grant(second, "PLATFORM_ADMIN"))).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        await (await admin.DeleteAsync($"{Path}/{extra}")).ShouldBeAsync(204);

        var platform = await (await admin.GetAsync($"{Path}?role=PLATFORM_ADMIN")).ReadJsonAsync(200);
        Assert.Equal(1, platform["pagination"]!["total_items"]!.GetValue<int>());
        var last = platform["data"]![0]!["id"]!.GetValue<string>();
        var refused = await (await admin.DeleteAsync($"{Path}/{last}")).ReadProblemAsync(409);
        Assert.Contains("last PLATFORM_ADMIN", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await (await admin.GetAsync("/api/v1/admin/users/")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Every_grant_and_revocation_is_audited()
    {
        var tenant = await app.CreateTenantAsync();
        var (_, clientId, _) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        var id = (await (await admin.PostAsJsonAsync(Path, Grant(clientId, "TENANT_ADMIN", tenantId: tenant))).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        await (await admin.DeleteAsync($"{Path}/{id}")).ShouldBeAsync(204);

        var events = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={id}")).ReadJsonAsync(200);
        var actions = events["data"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()).ToList();
        Assert.Equal(["role_assignment.deleted", "role_assignment.created"], actions);
        Assert.All(events["data"]!.AsArray(), e => Assert.Equal(ScaiKeyApp.AdminClientId, e!["actor_id"]!.GetValue<string>()));

        var platformLevel = await (await admin.GetAsync($"/api/v1/admin/audit-events?action=admin_client.created")).ReadJsonAsync(200);
        Assert.True(platformLevel["pagination"]!["total_items"]!.GetValue<int>() >= 1);
    }

    [Fact]
    public async Task Tenant_roles_cannot_use_the_role_assignment_api()
    {
        var tenant = await app.CreateTenantAsync();
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        var (_, clientId, _) = await app.CreateAdminClientAsync();
        await (await tenantAdmin.GetAsync(Path)).ReadProblemAsync(403);
        await (await tenantAdmin.PostAsJsonAsync(Path, Grant(clientId, "TENANT_VIEWER", tenantId: tenant))).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync("/api/v1/admin/audit-events")).ReadProblemAsync(403);
    }
}
