using Microsoft.Playwright;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>The partners and tenants page group walked by a partner admin in chromium, axe-core on every page visited.</summary>
public sealed class ConsoleTenancyBrowserTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Console-Tenancy-Browser-2026!";

    [PeerFact("chromium", "peers")]
    public async Task A_partner_admin_creates_a_tenant_and_its_first_admin_then_edits_its_settings_and_sees_the_422_at_the_field()
    {
        using var platform = await app.AdminAsync();
        var partnerId = (await (await platform.PostAsJsonAsync("/api/v1/admin/partners", new { name = $"Partner {Guid.NewGuid():N}" })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var homeId = await app.CreateTenantAsync(partnerId: partnerId);
        var homeSlug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{homeId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var email = $"partner-admin-{Guid.NewGuid():N}@example.com";
        var adminId = await app.CreateUserIdAsync(homeId, email, Password);
        await (await platform.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = adminId, role = "PARTNER_ADMIN", partner_id = partnerId })).ShouldBeAsync(201);

        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(homeSlug, email, Password);
        Assert.Equal($"{console.BaseUrl}/console/tenants", page.Url);
        await console.AxeAsync();

        // A new tenant and its first admin, invited by email.
        await page.GetByRole(AriaRole.Link, new() { Name = "New tenant…" }).ClickAsync();
        await console.AxeAsync();
        var name = $"Customer {Guid.NewGuid():N}"[..20];
        var firstAdmin = $"first-{Guid.NewGuid():N}@example.com";
        await page.GetByLabel("Tenant name").FillAsync(name);
        await page.GetByLabel("Admin's email").FillAsync(firstAdmin);
        await page.GetByLabel("First name").FillAsync("Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant and invite its admin" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenant ready" })).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Open the new admin" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = firstAdmin })).ToBeVisibleAsync();
        await console.AxeAsync();

        // Its settings: a minimum length the API refuses is marked at the field, and nothing is saved.
        await page.GotoAsync(console.BaseUrl + "/console/tenants");
        await page.GetByRole(AriaRole.Link, new() { Name = $"Settings of {name}" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("Minimum password length").FillAsync("3");
        await page.GetByLabel("Require a second factor for every user").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Assertions.Expect(page.Locator("[id='password_policy.min_length-error']")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Minimum password length")).ToHaveAttributeAsync("aria-invalid", "true");
        await console.AxeAsync();

        // Corrected: saved.
        await page.GetByLabel("Minimum password length").FillAsync("14");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Settings saved." })).ToBeVisibleAsync();
        await console.AxeAsync();

        console.AssertAccessible();
    }
}
