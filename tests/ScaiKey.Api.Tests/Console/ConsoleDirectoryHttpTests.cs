using System.Net;
using ScaiKey.Api.Tests.Infrastructure;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The console's directory pages (OUs, groups, role assignments, audit log) over HTTP with a real console session:
/// buttons only where the admin's roles reach, the API's refusal shown (never a 500) when a lesser admin posts
/// anyway, and the API's 422s next to the fields they name.
/// </summary>
public sealed class ConsoleDirectoryHttpTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Console-Directory-2026!";

    private async Task<(string TenantId, string Slug)> TenantAsync()
    {
        var tenantId = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var slug = (await (await admin.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        return (tenantId, slug);
    }

    private async Task<string> UserWithRoleAsync(string tenantId, string role)
    {
        var email = $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@example.com";
        var userId = await app.CreateUserIdAsync(tenantId, email, Password);
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = userId, role, tenant_id = tenantId })).ShouldBeAsync(201);
        return email;
    }

    private static string Decode(string html) => WebUtility.HtmlDecode(html);

    [Fact]
    public async Task A_helpdesk_sees_no_directory_change_buttons_and_its_forged_posts_get_the_apis_refusal()
    {
        var (tenantId, slug) = await TenantAsync();
        var ouId = await app.CreateAsync($"/api/v1/tenants/{tenantId}/ous", new { name = "Sales" });
        var groupId = await app.CreateAsync($"/api/v1/tenants/{tenantId}/groups", new { name = "Staff" });
        var helpdeskEmail = await UserWithRoleAsync(tenantId, "TENANT_HELPDESK");
        var adminEmail = await UserWithRoleAsync(tenantId, "TENANT_ADMIN");
        var t = $"/console/tenants/{tenantId}";

        await using (var helpdesk = await ConsoleDirectorySession.SignInAsync(app, slug, helpdeskEmail, Password))
        {
            // It reads the tree, a unit and a group, but is offered nothing it may not do.
            var tree = await helpdesk.PageAsync($"{t}/ous");
            Assert.Contains(">Sales</a>", tree, StringComparison.Ordinal);
            Assert.DoesNotContain("Create unit", tree, StringComparison.Ordinal);
            Assert.DoesNotContain($"href=\"{t}/audit\"", tree, StringComparison.Ordinal);
            Assert.DoesNotContain($"href=\"{t}/roles\"", tree, StringComparison.Ordinal);
            var ou = await helpdesk.PageAsync($"{t}/ous/{ouId}");
            Assert.DoesNotContain("Delete unit", ou, StringComparison.Ordinal);
            Assert.DoesNotContain("action=\"" + t + "/ous/" + ouId + "/move\"", ou, StringComparison.Ordinal);
            var group = await helpdesk.PageAsync($"{t}/groups/{groupId}");
            Assert.DoesNotContain("Add member", group, StringComparison.Ordinal);
            Assert.DoesNotContain("Delete group", group, StringComparison.Ordinal);
            Assert.DoesNotContain("Create group", await helpdesk.PageAsync($"{t}/groups"), StringComparison.Ordinal);

            // Pressed anyway with this browser's form token: the API's 403 is shown, nothing changes.
            var created = await helpdesk.PostAsync($"{t}/ous", ("name", "Forged"));
            Assert.True(created.Status == 403, created.Html);
            Assert.Contains("Not allowed", created.Html, StringComparison.Ordinal);
            var deleted = await helpdesk.PostAsync($"{t}/groups/{groupId}/delete");
            Assert.True(deleted.Status == 403, deleted.Html);
            var moved = await helpdesk.PostAsync($"{t}/ous/{ouId}/rename", ("name", "Renamed"));
            Assert.True(moved.Status == 403, moved.Html);

            // Role assignments and the audit log are not theirs: the API's refusals, shown as pages.
            Assert.Contains("Only platform and partner admins", Decode(await helpdesk.PageAsync($"{t}/roles", 403)), StringComparison.Ordinal);
            var granted = await helpdesk.PostAsync($"{t}/roles", ("principal_type", "USER"), ("email", helpdeskEmail), ("role", "TENANT_ADMIN"));
            Assert.True(granted.Status == 403, granted.Html);
            await helpdesk.PageAsync($"{t}/audit", 403);
        }

        using (var api = await app.AdminAsync())
        {
            var ous = (await (await api.GetAsync($"/api/v1/tenants/{tenantId}/ous")).ReadJsonAsync(200))["data"]!.AsArray();
            Assert.Equal(["Sales"], ous.Select(o => o!["name"]!.GetValue<string>()));
            await (await api.GetAsync($"/api/v1/tenants/{tenantId}/groups/{groupId}")).ShouldBeAsync(200);
        }

        // Control: a tenant admin is offered the buttons, and the same POST creates the unit.
        await using var tenantAdmin = await ConsoleDirectorySession.SignInAsync(app, slug, adminEmail, Password);
        Assert.Contains("Create unit", await tenantAdmin.PageAsync($"{t}/ous"), StringComparison.Ordinal);
        Assert.Contains("Delete group", await tenantAdmin.PageAsync($"{t}/groups/{groupId}"), StringComparison.Ordinal);
        Assert.Contains($"href=\"{t}/audit\"", await tenantAdmin.PageAsync($"{t}/ous"), StringComparison.Ordinal);
        var control = await tenantAdmin.PostAsync($"{t}/ous", ("name", "Created"));
        Assert.True(control.Status == 302, control.Html);
    }

    [Fact]
    public async Task The_apis_422s_and_409s_are_shown_next_to_their_fields_or_on_the_page_never_as_a_500()
    {
        var (tenantId, slug) = await TenantAsync();
        var parentId = await app.CreateAsync($"/api/v1/tenants/{tenantId}/ous", new { name = "Parent" });
        var childId = await app.CreateAsync($"/api/v1/tenants/{tenantId}/ous", new { name = "Child", parent_id = parentId });
        var groupId = await app.CreateAsync($"/api/v1/tenants/{tenantId}/groups", new { name = "Top" });
        var adminEmail = await UserWithRoleAsync(tenantId, "TENANT_ADMIN");
        var t = $"/console/tenants/{tenantId}";
        await using var admin = await ConsoleDirectorySession.SignInAsync(app, slug, adminEmail, Password);

        // A name the API refuses (422, loc body.name): under the name field, the typed value kept.
        var slash = await admin.PostAsync($"{t}/ous", ("name", "a/b"));
        Assert.True(slash.Status == 422, slash.Html);
        Assert.Matches("<p class=\"field-error\" id=\"name-error\">[^<]*must not contain", Decode(slash.Html));
        Assert.Contains("value=\"a/b\"", slash.Html, StringComparison.Ordinal);

        // A move below itself (not offered by the page, forged): the API's 422 under the parent field.
        var loop = await admin.PostAsync($"{t}/ous/{parentId}/move", ("parent_id", childId));
        Assert.True(loop.Status == 422, loop.Html);
        Assert.Matches("id=\"parent_id-error\">[^<]*cannot be moved below itself", Decode(loop.Html));
        Assert.DoesNotContain($"<option value=\"{childId}\"", (await admin.PageAsync($"{t}/ous/{parentId}")), StringComparison.Ordinal);

        // Deleting a unit with a child: the API's 409 on the unit's page, nothing deleted.
        var notEmpty = await admin.PostAsync($"{t}/ous/{parentId}/delete");
        Assert.True(notEmpty.Status == 409, notEmpty.Html);
        Assert.Contains("has child units", notEmpty.Html, StringComparison.Ordinal);

        // An empty group name (422 on name) and an unknown member email (the console's own lookup) under their fields.
        var empty = await admin.PostAsync($"{t}/groups", ("name", " "));
        Assert.True(empty.Status == 422, empty.Html);
        Assert.Contains("id=\"name-error\"", empty.Html, StringComparison.Ordinal);
        var unknown = await admin.PostAsync($"{t}/groups/{groupId}/members", ("email", "nobody@example.com"));
        Assert.True(unknown.Status == 422, unknown.Html);
        Assert.Matches("id=\"email-error\">No user of this tenant has this email", unknown.Html);

        // A since the audit API cannot read: its 422 under the field.
        var since = await admin.FollowAsync($"{t}/audit?since=yesterday");
        var sinceHtml = await since.Content.ReadAsStringAsync();
        Assert.True((int)since.StatusCode == 422, sinceHtml);
        Assert.Contains("id=\"since-error\"", sinceHtml, StringComparison.Ordinal);
    }
}
