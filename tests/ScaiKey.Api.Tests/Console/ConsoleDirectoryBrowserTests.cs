using Microsoft.Playwright;
using ScaiKey.Api.Tests.Infrastructure;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The console's directory pages walked end to end in chromium by a partner admin (the role assignments need the
/// admin API), on the fixture's database: every page visited is checked by axe-core.
/// </summary>
public sealed class ConsoleDirectoryBrowserTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Console-Directory-2026!";

    [PeerFact("chromium", "peers")]
    public async Task A_partner_admin_builds_units_and_groups_grants_a_role_and_finds_it_all_in_the_audit_log()
    {
        var partnerId = await app.CreateAsync("/api/v1/admin/partners", new { name = "Partner " + Guid.NewGuid().ToString("N")[..8] });
        var tenantId = await app.CreateTenantAsync(partnerId: partnerId);
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var adminEmail = $"partner-admin-{Guid.NewGuid():N}@example.com";
        var adminId = await app.CreateUserIdAsync(tenantId, adminEmail, Password);
        await (await platform.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = adminId, role = "PARTNER_ADMIN", partner_id = partnerId })).ShouldBeAsync(201);
        var memberEmail = $"member-{Guid.NewGuid():N}@example.com";
        var memberId = await app.CreateUserIdAsync(tenantId, memberEmail, Password);

        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(slug, adminEmail, Password);
        var t = $"{console.BaseUrl}/console/tenants/{tenantId}";

        // Two units, the second moved under the first.
        await page.GotoAsync($"{t}/ous");
        await console.AxeAsync();
        await page.GetByLabel("Name").FillAsync("Sales");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create unit" }).ClickAsync();
        await Assertions.Expect(page.Locator("#ou-path")).ToHaveTextAsync("/Sales");
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the tree" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("EMEA");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create unit" }).ClickAsync();
        await Assertions.Expect(page.Locator("#ou-path")).ToHaveTextAsync("/EMEA");
        await page.GetByLabel("New parent").SelectOptionAsync(new SelectOptionValue { Label = "/Sales" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Move", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#ou-path")).ToHaveTextAsync("/Sales/EMEA");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "moved" })).ToBeVisibleAsync();
        await console.AxeAsync();
        var emeaId = page.Url.Split('/')[^1].Split('?')[0];

        // The tree shows EMEA nested under Sales.
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the tree" }).ClickAsync();
        await Assertions.Expect(page.Locator("ul.tree > li:has(> a:text-is('Sales')) ul.tree a")).ToHaveTextAsync("EMEA");
        await console.AxeAsync();

        // Two groups; the member joins Backend, Backend is nested in Engineering: the member is inherited there.
        await page.GetByRole(AriaRole.Link, new() { Name = "Groups", Exact = true }).First.ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("Name").FillAsync("Engineering");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create group" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Group Engineering" })).ToBeVisibleAsync();
        var engineering = page.Url.Split('?')[0];
        await page.GotoAsync($"{t}/groups");
        await page.GetByLabel("Name").FillAsync("Backend");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create group" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Group Backend" })).ToBeVisibleAsync();
        await page.GetByLabel("Add a member by email").FillAsync(memberEmail);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = memberEmail, Exact = true })).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GotoAsync(engineering);
        await page.GetByLabel("Nest a group in this one").SelectOptionAsync(new SelectOptionValue { Label = "Backend" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Nest group" }).ClickAsync();
        await Assertions.Expect(page.Locator("section[aria-labelledby=nested-h]").GetByRole(AriaRole.Link, new() { Name = "Backend", Exact = true })).ToBeVisibleAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = memberEmail });
        await Assertions.Expect(row.Locator(".tag")).ToHaveTextAsync("inherited");
        await console.AxeAsync();

        // An unknown email is refused next to its field.
        await page.GetByLabel("Add a member by email").FillAsync("nobody@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
        await Assertions.Expect(page.Locator("#email-error")).ToContainTextAsync("No user of this tenant");
        await console.AxeAsync();

        // The member becomes a helpdesk of the tenant.
        await page.GetByRole(AriaRole.Link, new() { Name = "Role assignments" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("User's email (for a user)").FillAsync(memberEmail);
        await page.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("TENANT_HELPDESK");
        await page.GetByRole(AriaRole.Button, new() { Name = "Grant role" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = memberEmail })).ToContainTextAsync("Helpdesk");
        await console.AxeAsync();
        var permissions = (await (await platform.GetAsync($"/api/v1/admin/role-assignments?principal_id={memberId}")).ReadJsonAsync(200))["data"]!.AsArray();
        Assert.Equal("TENANT_HELPDESK", Assert.Single(permissions)!["role"]!.GetValue<string>());

        // Revoking asks first, saying what it does (cancelled here).
        await page.GetByRole(AriaRole.Link, new() { Name = $"Revoke Helpdesk from {memberEmail}…" }).ClickAsync();
        await Assertions.Expect(page.GetByText("loses the role Helpdesk in this tenant at once")).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Cancel" }).ClickAsync();

        // Every step is in the audit log, by this admin; the filters narrow it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await console.AxeAsync();
        foreach (var action in new[] { "ou.created", "ou.updated", "group.created", "group.member_added", "group.updated", "role_assignment.created" })
        {
            await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = action, Exact = true }).First).ToBeVisibleAsync();
        }

        await page.GetByLabel("Action").FillAsync("ou.updated");
        await page.GetByLabel("Actor (email or id)").FillAsync(adminEmail);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("#audit-total")).ToHaveTextAsync("1 events.");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = $"ou {emeaId}" })).ToBeVisibleAsync();
        await console.AxeAsync();

        console.AssertAccessible();
    }
}
