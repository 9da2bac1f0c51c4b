using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using ScaiKey.Api.OAuth;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Nothing of one tenant is reachable through another tenant's routes, and every role sees exactly its scope
/// (platform.md, "Who may do what").
/// </summary>
public sealed class CrossTenantIsolationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";

    private static List<string> IdsOf(JsonNode page, string key = "id") => page["data"]!.AsArray().Select(u => u![key]!.GetValue<string>()).ToList();

    private static async Task<List<string>> LocsAsync(HttpResponseMessage response) =>
        (await response.ReadValidationErrorsAsync()).Select(e => e.Split('|')[0]).ToList();

    private Task<HttpClient> TenantRoleAsync(string role, string tenant) => app.ClientWithRolesAsync((role, null, tenant));

    private async Task<(string A, string B, string UserA, string EmailA)> TwoTenantsAsync()
    {
        var a = await app.CreateTenantAsync();
        var b = await app.CreateTenantAsync();
        var email = $"alice.{Guid.NewGuid():N}@example.com";
        var userA = await app.CreateUserIdAsync(a, email, Password);
        return (a, b, userA, email);
    }

    // ---- one tenant's user through another tenant's routes ----

    [Fact]
    public async Task A_user_of_tenant_a_is_404_through_every_tenant_b_user_route()
    {
        var (a, b, userA, emailA) = await TwoTenantsAsync();
        await app.CreateUserIdAsync(b); // B is not empty
        using var admin = await app.AdminAsync();
        var before = await (await admin.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ReadJsonAsync(200);

        await (await admin.GetAsync($"/api/v1/tenants/{b}/users/{userA}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{b}/users/{userA}?include=sessions,mfa_factors")).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{b}/users/{userA}", new { display_name = "Hijacked" })).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{b}/users/{userA}?confirm_email={Uri.EscapeDataString(emailA)}")).ReadProblemAsync(404);
        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{b}/users/{userA}/status", new { status = "DISABLED" })).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/users/{userA}/password/reset", new { method = "EMAIL" })).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/users/{userA}/password/reset", new { method = "MANUAL", new_password = "Another-Quartz-Lamp-17?" })).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/users/{userA}/password/reset", new { method = "TEMPORARY" })).ReadProblemAsync(404);

        // The user is untouched.
        var after = await (await admin.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ReadJsonAsync(200);
        Assert.Equal("ACTIVE", after["data"]!["status"]!.GetValue<string>());
        Assert.Null(after["data"]!["display_name"]);
        Assert.True(JsonNode.DeepEquals(before["data"], after["data"]), $"before: {before["data"]!.ToJsonString()}\nafter: {after["data"]!.ToJsonString()}");
        var stored = await app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == userA));
        Assert.Null(stored.DeletedAt);
        Assert.Null(stored.TokensRevokedAt);
        Assert.False(stored.RequirePasswordChange);
        Assert.Equal(0, await app.DbAsync(db => db.UserActionTokens.CountAsync(t => t.UserId == userA && t.Purpose == "PASSWORD_RESET")));
    }

    [Fact]
    public async Task A_user_of_tenant_a_is_absent_from_tenant_b_lists_searches_and_audit()
    {
        var (a, b, userA, emailA) = await TwoTenantsAsync();
        var userB = await app.CreateUserIdAsync(b);
        using var admin = await app.AdminAsync();

        var list = await (await admin.GetAsync($"/api/v1/tenants/{b}/users?per_page=100")).ReadJsonAsync(200);
        Assert.Equal([userB], IdsOf(list));
        Assert.Equal(1, list["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Empty(IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{b}/users?search={Uri.EscapeDataString(emailA)}")).ReadJsonAsync(200)));
        Assert.Empty(IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{b}/users?search=alice")).ReadJsonAsync(200)));
        Assert.Equal([userA], IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{a}/users?search=alice")).ReadJsonAsync(200)));

        var audit = await (await admin.GetAsync($"/api/v1/tenants/{b}/audit-events?per_page=100")).ReadJsonAsync(200);
        Assert.DoesNotContain(userA, IdsOf(audit, "target_id"));
        Assert.Empty((await (await admin.GetAsync($"/api/v1/tenants/{b}/audit-events?target_id={userA}")).ReadJsonAsync(200))["data"]!.AsArray());
        Assert.NotEmpty((await (await admin.GetAsync($"/api/v1/tenants/{a}/audit-events?target_id={userA}")).ReadJsonAsync(200))["data"]!.AsArray());
    }

    [Fact]
    public async Task The_same_email_in_two_tenants_are_two_separate_users()
    {
        var a = await app.CreateTenantAsync();
        var b = await app.CreateTenantAsync();
        var inA = await app.CreateUserIdAsync(a, "shared@example.com");
        var inB = await app.CreateUserIdAsync(b, "shared@example.com");
        Assert.NotEqual(inA, inB);
        using var admin = await app.AdminAsync();

        await (await admin.DeleteAsync($"/api/v1/tenants/{b}/users/{inB}?confirm_email=shared@example.com")).ShouldBeAsync(204);
        await (await admin.GetAsync($"/api/v1/tenants/{a}/users/{inA}")).ShouldBeAsync(200);
        Assert.Equal([inA], IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{a}/users?search=shared")).ReadJsonAsync(200)));
    }

    // ---- one tenant's OUs and groups in another tenant ----

    [Fact]
    public async Task Ou_and_group_ids_of_tenant_a_are_rejected_in_tenant_b()
    {
        var (a, b, userA, _) = await TwoTenantsAsync();
        var ouA = await app.CreateAsync($"/api/v1/tenants/{a}/ous", new { name = "A Unit" });
        var groupA = await app.CreateAsync($"/api/v1/tenants/{a}/groups", new { name = "A Group" });
        var groupB = await app.CreateAsync($"/api/v1/tenants/{b}/groups", new { name = "B Group" });
        var userB = await app.CreateUserIdAsync(b);
        using var admin = await app.AdminAsync();

        // Create user.
        Assert.Equal(["body.ou_id"], await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/users", new { email = "x1@example.com", ou_id = ouA })));
        Assert.Equal(["body.group_ids.0"], await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/users", new { email = "x2@example.com", group_ids = new[] { groupA } })));
        Assert.Equal(["body.group_ids.1"], await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/users", new { email = "x3@example.com", group_ids = new[] { groupB, groupA } })));
        Assert.Equal(["body.group_ids.0", "body.ou_id"], (await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/users",
            new { email = "x4@example.com", ou_id = ouA, group_ids = new[] { groupA } }))).Order());
        Assert.Equal([userB], IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{b}/users")).ReadJsonAsync(200)));

        // Admin create into B with A's ids.
        Assert.Equal(["body.ou_id"], await LocsAsync(await admin.PostAsJsonAsync("/api/v1/admin/users/", new { tenant_id = b, email = "x5@example.com", ou_id = ouA })));

        // Update user.
        Assert.Equal(["body.ou_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{b}/users/{userB}", new { ou_id = ouA })));
        Assert.Equal(["body.ou_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/admin/users/{userB}", new { ou_id = ouA })));

        // List filters.
        Assert.Equal(["query.ou_id"], await LocsAsync(await admin.GetAsync($"/api/v1/tenants/{b}/users?ou_id={ouA}")));
        Assert.Equal(["query.group_id"], await LocsAsync(await admin.GetAsync($"/api/v1/tenants/{b}/users?group_id={groupA}")));

        // Group and OU parents.
        Assert.Equal(["body.parent_group_id"], await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/groups", new { name = "Nested", parent_group_id = groupA })));
        Assert.Equal(["body.parent_group_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{b}/groups/{groupB}", new { parent_group_id = groupA })));
        Assert.Equal(["body.parent_id"], await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/ous", new { name = "Nested", parent_id = ouA })));
        var ouB = await app.CreateAsync($"/api/v1/tenants/{b}/ous", new { name = "B Unit" });
        Assert.Equal(["body.parent_id"], await LocsAsync(await admin.PatchAsJsonAsync($"/api/v1/tenants/{b}/ous/{ouB}", new { parent_id = ouA })));

        // Members: A's user cannot join B's group.
        Assert.Equal(["body.user_ids.0"], await LocsAsync(await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/groups/{groupB}/members", new { user_ids = new[] { userA } })));

        // A's OU and group are not found through B's routes.
        await (await admin.GetAsync($"/api/v1/tenants/{b}/ous/{ouA}")).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{b}/ous/{ouA}", new { name = "Stolen" })).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{b}/ous/{ouA}")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{b}/groups/{groupA}")).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{b}/groups/{groupA}", new { name = "Stolen" })).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{b}/groups/{groupA}/members")).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{b}/groups/{groupA}/members", new { user_ids = new[] { userB } })).ReadProblemAsync(404);
        await (await admin.DeleteAsync($"/api/v1/tenants/{b}/groups/{groupA}")).ReadProblemAsync(404);
        Assert.Equal("A Unit", (await (await admin.GetAsync($"/api/v1/tenants/{a}/ous/{ouA}")).ReadJsonAsync(200))["data"]!["name"]!.GetValue<string>());
        Assert.Equal("A Group", (await (await admin.GetAsync($"/api/v1/tenants/{a}/groups/{groupA}")).ReadJsonAsync(200))["data"]!["name"]!.GetValue<string>());
        Assert.DoesNotContain(groupA, IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{b}/groups")).ReadJsonAsync(200)));
        Assert.DoesNotContain(ouA, IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{b}/ous")).ReadJsonAsync(200)));
    }

    [Fact]
    public async Task A_membership_of_tenant_a_cannot_be_removed_through_tenant_b()
    {
        var (a, b, userA, _) = await TwoTenantsAsync();
        var groupA = await app.CreateAsync($"/api/v1/tenants/{a}/groups", new { name = "Members" });
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{a}/groups/{groupA}/members", new { user_ids = new[] { userA } })).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"/api/v1/tenants/{b}/groups/{groupA}/members/{userA}")).ReadProblemAsync(404);
        var members = await (await admin.GetAsync($"/api/v1/tenants/{a}/groups/{groupA}/members")).ReadJsonAsync(200);
        Assert.Equal([userA], IdsOf(members, "user_id"));
    }

    [Fact]
    public async Task A_non_existent_tenant_is_404_on_tenant_routes_for_a_platform_admin()
    {
        var missing = Guid.NewGuid().ToString();
        using var admin = await app.AdminAsync();
        await (await admin.GetAsync($"/api/v1/tenants/{missing}/users")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{missing}/users/{Guid.NewGuid()}")).ReadProblemAsync(404);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{missing}/users", new { email = "ghost@example.com" })).ReadProblemAsync(404);
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{missing}/users/{Guid.NewGuid()}", new { first_name = "Ghost" })).ReadProblemAsync(404);
        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{missing}/users/{Guid.NewGuid()}/status", new { status = "DISABLED" })).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{missing}/ous")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{missing}/groups")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/tenants/{missing}/audit-events")).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/admin/tenants/{missing}")).ReadProblemAsync(404);
    }

    // ---- roles ----

    [Fact]
    public async Task A_principal_with_a_valid_token_but_no_roles_is_403_everywhere()
    {
        var (a, _, userA, _) = await TwoTenantsAsync();
        using var nobody = await app.ClientWithRolesAsync();
        await (await nobody.GetAsync($"/api/v1/tenants/{a}/users")).ReadProblemAsync(403);
        await (await nobody.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ReadProblemAsync(403);
        await (await nobody.GetAsync("/api/v1/admin/users/")).ReadProblemAsync(403);
        await (await nobody.GetAsync($"/api/v1/admin/users/{userA}")).ReadProblemAsync(403);
        await (await nobody.GetAsync("/api/v1/admin/tenants")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task A_tenant_admin_manages_its_own_tenant_only()
    {
        var (a, b, userA, _) = await TwoTenantsAsync();
        var userB = await app.CreateUserIdAsync(b);
        using var tenantAdmin = await TenantRoleAsync("TENANT_ADMIN", a);

        var list = await (await tenantAdmin.GetAsync($"/api/v1/tenants/{a}/users")).ReadJsonAsync(200);
        Assert.Equal([userA], IdsOf(list));
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ShouldBeAsync(200);
        var created = await (await tenantAdmin.PostAsJsonAsync($"/api/v1/tenants/{a}/users", new { email = "hired@example.com" })).ReadJsonAsync(201);
        var hired = created["data"]!["id"]!.GetValue<string>();
        await (await tenantAdmin.PatchAsJsonAsync($"/api/v1/tenants/{a}/users/{hired}", new { first_name = "Hired" })).ShouldBeAsync(200);
        await (await tenantAdmin.PutAsJsonAsync($"/api/v1/tenants/{a}/users/{hired}/status", new { status = "DISABLED" })).ShouldBeAsync(200);
        await (await tenantAdmin.DeleteAsync($"/api/v1/tenants/{a}/users/{hired}?confirm_email=hired@example.com")).ShouldBeAsync(204);
        await (await tenantAdmin.PostAsJsonAsync($"/api/v1/tenants/{a}/groups", new { name = "Team" })).ShouldBeAsync(201);
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{a}/audit-events")).ShouldBeAsync(200);

        // Tenant B: forbidden, whatever the route.
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{b}/users")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{b}/users/{userB}")).ReadProblemAsync(403);
        await (await tenantAdmin.PostAsJsonAsync($"/api/v1/tenants/{b}/users", new { email = "intruder@example.com" })).ReadProblemAsync(403);
        await (await tenantAdmin.PatchAsJsonAsync($"/api/v1/tenants/{b}/users/{userB}", new { first_name = "Owned" })).ReadProblemAsync(403);
        await (await tenantAdmin.PutAsJsonAsync($"/api/v1/tenants/{b}/users/{userB}/status", new { status = "DISABLED" })).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{b}/groups")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{b}/ous")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{b}/audit-events")).ReadProblemAsync(403);

        // A's user through B's route is 403 too: the tenant check comes first.
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{b}/users/{userA}")).ReadProblemAsync(403);

        // A tenant id that does not exist is 403, so tenant ids cannot be probed.
        await (await tenantAdmin.GetAsync($"/api/v1/tenants/{Guid.NewGuid()}/users")).ReadProblemAsync(403);

        // The admin API is not for tenant admins.
        await (await tenantAdmin.GetAsync("/api/v1/admin/users/")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/admin/users/?tenant_id={a}")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/admin/users/{userA}")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/admin/users/{userA}/groups")).ReadProblemAsync(403);
        await (await tenantAdmin.PostAsJsonAsync("/api/v1/admin/users/", new { tenant_id = a, email = "viaadmin@example.com" })).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync("/api/v1/admin/tenants")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync($"/api/v1/admin/tenants/{a}")).ReadProblemAsync(403);
        await (await tenantAdmin.GetAsync("/api/v1/admin/partners")).ReadProblemAsync(403);

        // Nothing was written to B.
        using var admin = await app.AdminAsync();
        Assert.Equal([userB], IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{b}/users")).ReadJsonAsync(200)));
        Assert.Equal("PENDING_EMAIL_VERIFICATION", (await (await admin.GetAsync($"/api/v1/tenants/{b}/users/{userB}")).ReadJsonAsync(200))["data"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tenant_viewer_can_read_but_not_write()
    {
        var (a, _, userA, emailA) = await TwoTenantsAsync();
        var group = await app.CreateAsync($"/api/v1/tenants/{a}/groups", new { name = "Readers" });
        using var viewer = await TenantRoleAsync("TENANT_VIEWER", a);

        Assert.Equal([userA], IdsOf(await (await viewer.GetAsync($"/api/v1/tenants/{a}/users")).ReadJsonAsync(200)));
        await (await viewer.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ShouldBeAsync(200);
        await (await viewer.GetAsync($"/api/v1/tenants/{a}/groups")).ShouldBeAsync(200);
        await (await viewer.GetAsync($"/api/v1/tenants/{a}/ous")).ShouldBeAsync(200);

        await (await viewer.PostAsJsonAsync($"/api/v1/tenants/{a}/users", new { email = "new@example.com" })).ReadProblemAsync(403);
        await (await viewer.PatchAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}", new { first_name = "Changed" })).ReadProblemAsync(403);
        await (await viewer.DeleteAsync($"/api/v1/tenants/{a}/users/{userA}?confirm_email={Uri.EscapeDataString(emailA)}")).ReadProblemAsync(403);
        await (await viewer.PutAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}/status", new { status = "DISABLED" })).ReadProblemAsync(403);
        await (await viewer.PostAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}/password/reset", new { method = "EMAIL" })).ReadProblemAsync(403);
        await (await viewer.PostAsJsonAsync($"/api/v1/tenants/{a}/groups", new { name = "Nope" })).ReadProblemAsync(403);
        await (await viewer.PostAsJsonAsync($"/api/v1/tenants/{a}/groups/{group}/members", new { user_ids = new[] { userA } })).ReadProblemAsync(403);
        await (await viewer.PostAsJsonAsync($"/api/v1/tenants/{a}/ous", new { name = "Nope" })).ReadProblemAsync(403);
        await (await viewer.GetAsync("/api/v1/admin/users/")).ReadProblemAsync(403);

        using var admin = await app.AdminAsync();
        var user = (await (await admin.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal("ACTIVE", user["status"]!.GetValue<string>());
        Assert.Null(user["first_name"]);
        Assert.Empty(user["groups"]!.AsArray());
    }

    [Fact]
    public async Task A_tenant_helpdesk_can_change_status_and_reset_passwords_but_not_edit()
    {
        var (a, b, userA, emailA) = await TwoTenantsAsync();
        var userB = await app.CreateUserIdAsync(b);
        using var helpdesk = await TenantRoleAsync("TENANT_HELPDESK", a);

        await (await helpdesk.GetAsync($"/api/v1/tenants/{a}/users")).ShouldBeAsync(200);
        await (await helpdesk.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ShouldBeAsync(200);
        var disabled = await (await helpdesk.PutAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}/status", new { status = "DISABLED", reason = "helpdesk ticket 17" })).ReadJsonAsync(200);
        Assert.Equal("DISABLED", disabled["data"]!["status"]!.GetValue<string>());
        await (await helpdesk.PutAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}/status", new { status = "ACTIVE" })).ShouldBeAsync(200);
        await (await helpdesk.PostAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}/password/reset", new { method = "EMAIL" })).ShouldBeAsync(200);

        await (await helpdesk.PatchAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}", new { first_name = "Edited" })).ReadProblemAsync(403);
        await (await helpdesk.PostAsJsonAsync($"/api/v1/tenants/{a}/users", new { email = "new@example.com" })).ReadProblemAsync(403);
        await (await helpdesk.DeleteAsync($"/api/v1/tenants/{a}/users/{userA}?confirm_email={Uri.EscapeDataString(emailA)}")).ReadProblemAsync(403);
        await (await helpdesk.PostAsJsonAsync($"/api/v1/tenants/{a}/groups", new { name = "Nope" })).ReadProblemAsync(403);
        await (await helpdesk.PutAsJsonAsync($"/api/v1/tenants/{b}/users/{userB}/status", new { status = "DISABLED" })).ReadProblemAsync(403);
        await (await helpdesk.GetAsync("/api/v1/admin/users/")).ReadProblemAsync(403);
        await (await helpdesk.PostAsync($"/api/v1/admin/users/{userA}/unlock", null)).ReadProblemAsync(403);

        using var admin = await app.AdminAsync();
        var user = (await (await admin.GetAsync($"/api/v1/tenants/{a}/users/{userA}")).ReadJsonAsync(200))["data"]!;
        Assert.Null(user["first_name"]);
        Assert.Equal("ACTIVE", user["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Roles_in_one_tenant_do_not_leak_into_another_when_combined()
    {
        var (a, b, userA, _) = await TwoTenantsAsync();
        var userB = await app.CreateUserIdAsync(b);
        using var mixed = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, a), ("TENANT_VIEWER", null, b));

        await (await mixed.PatchAsJsonAsync($"/api/v1/tenants/{a}/users/{userA}", new { first_name = "Allowed" })).ShouldBeAsync(200);
        await (await mixed.GetAsync($"/api/v1/tenants/{b}/users/{userB}")).ShouldBeAsync(200);
        await (await mixed.PatchAsJsonAsync($"/api/v1/tenants/{b}/users/{userB}", new { first_name = "Denied" })).ReadProblemAsync(403);
        await (await mixed.GetAsync("/api/v1/admin/users/")).ReadProblemAsync(403);
    }

    [Fact]
    public async Task A_partner_admin_sees_only_users_of_its_partners_tenants()
    {
        using var admin = await app.AdminAsync();
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Partner " + Guid.NewGuid().ToString("N")[..8] });
        var otherPartner = await app.CreateAsync("/api/v1/admin/partners", new { name = "Partner " + Guid.NewGuid().ToString("N")[..8] });
        var first = await app.CreateTenantAsync(partnerId: partner);
        var second = await app.CreateTenantAsync(partnerId: partner);
        var foreignPartnerTenant = await app.CreateTenantAsync(partnerId: otherPartner);
        var independent = await app.CreateTenantAsync();
        var inFirst = await app.CreateUserIdAsync(first, "p1@example.com");
        var inSecond = await app.CreateUserIdAsync(second, "p2@example.com");
        var inForeign = await app.CreateUserIdAsync(foreignPartnerTenant, "p3@example.com");
        var inIndependent = await app.CreateUserIdAsync(independent, "p4@example.com");
        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));

        // The admin list shows exactly the partner's users.
        var list = await (await partnerAdmin.GetAsync("/api/v1/admin/users/?per_page=100")).ReadJsonAsync(200);
        Assert.Equal(new[] { inFirst, inSecond }.Order(), IdsOf(list).Order());
        Assert.Equal(2, list["pagination"]!["total_items"]!.GetValue<int>());
        Assert.All(list["data"]!.AsArray(), u => Assert.Contains(u!["tenant_id"]!.GetValue<string>(), new[] { first, second }));
        Assert.Empty(IdsOf(await (await partnerAdmin.GetAsync("/api/v1/admin/users/?search=p3@example.com")).ReadJsonAsync(200)));
        Assert.Empty(IdsOf(await (await partnerAdmin.GetAsync("/api/v1/admin/users/?search=p4@example.com")).ReadJsonAsync(200)));

        // Filters inside the partner work.
        Assert.Equal(new[] { inFirst, inSecond }.Order(), IdsOf(await (await partnerAdmin.GetAsync($"/api/v1/admin/users/?partner_id={partner}")).ReadJsonAsync(200)).Order());
        Assert.Equal([inSecond], IdsOf(await (await partnerAdmin.GetAsync($"/api/v1/admin/users/?tenant_id={second}")).ReadJsonAsync(200)));

        // Filters outside it are 403.
        await (await partnerAdmin.GetAsync($"/api/v1/admin/users/?partner_id={otherPartner}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"/api/v1/admin/users/?partner_id={Guid.NewGuid()}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"/api/v1/admin/users/?tenant_id={foreignPartnerTenant}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"/api/v1/admin/users/?tenant_id={independent}")).ReadProblemAsync(403);

        // A user outside the partner is invisible (404), inside it is readable with its tenant_id.
        var got = await (await partnerAdmin.GetAsync($"/api/v1/admin/users/{inFirst}")).ReadJsonAsync(200);
        Assert.Equal(first, got["data"]!["tenant_id"]!.GetValue<string>());
        await (await partnerAdmin.GetAsync($"/api/v1/admin/users/{inForeign}")).ReadProblemAsync(404);
        await (await partnerAdmin.GetAsync($"/api/v1/admin/users/{inIndependent}")).ReadProblemAsync(404);
        await (await partnerAdmin.GetAsync($"/api/v1/admin/users/{inForeign}/groups")).ReadProblemAsync(404);
        await (await partnerAdmin.PatchAsJsonAsync($"/api/v1/admin/users/{inForeign}", new { first_name = "Nope" })).ReadProblemAsync(404);
        await (await partnerAdmin.DeleteAsync($"/api/v1/admin/users/{inIndependent}")).ReadProblemAsync(404);
        await (await partnerAdmin.PostAsync($"/api/v1/admin/users/{inForeign}/unlock", null)).ReadProblemAsync(404);
        await (await partnerAdmin.PostAsJsonAsync("/api/v1/admin/users/", new { tenant_id = independent, email = "planted@example.com" })).ReadProblemAsync(403);

        // Tenant routes: the partner's tenants yes, others no.
        await (await partnerAdmin.GetAsync($"/api/v1/tenants/{first}/users")).ShouldBeAsync(200);
        await (await partnerAdmin.GetAsync($"/api/v1/tenants/{second}/users/{inSecond}")).ShouldBeAsync(200);
        await (await partnerAdmin.GetAsync($"/api/v1/tenants/{foreignPartnerTenant}/users")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"/api/v1/tenants/{independent}/users/{inIndependent}")).ReadProblemAsync(403);

        // Nothing outside changed.
        var foreign = (await (await admin.GetAsync($"/api/v1/admin/users/{inForeign}")).ReadJsonAsync(200))["data"]!;
        Assert.Null(foreign["first_name"]);
        await (await admin.GetAsync($"/api/v1/admin/users/{inIndependent}")).ShouldBeAsync(200);
        Assert.Empty(IdsOf(await (await admin.GetAsync($"/api/v1/tenants/{independent}/users?search=planted")).ReadJsonAsync(200)));
    }
}
