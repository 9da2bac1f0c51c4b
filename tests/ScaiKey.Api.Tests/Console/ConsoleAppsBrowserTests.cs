using Microsoft.Playwright;
using static ScaiKey.Api.Tests.AdminConsole.ConsoleAppsHttpTests;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The applications, identity providers and credentials page groups walked end to end by real admins in chromium, on
/// the fixture's database (SQLite, or PostgreSQL with SCAIKEY_TEST_POSTGRES); axe-core checks every page visited.
/// </summary>
public sealed class ConsoleAppsBrowserTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [PeerFact("chromium", "peers")]
    public async Task A_tenant_admin_registers_an_application_sees_its_secret_once_adds_a_redirect_uri_and_assigns_a_user()
    {
        var (tenantId, slug, adminEmail) = await TenantWithAdminAsync(app, "TENANT_ADMIN");
        var memberEmail = $"member-{Guid.NewGuid():N}@example.com";
        await app.CreateUserIdAsync(tenantId, memberEmail, Password);

        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(slug, adminEmail, Password);
        await page.GetByRole(AriaRole.Link, new() { Name = "Applications", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#application-total")).ToHaveTextAsync("0 applications.");
        await console.AxeAsync();

        // Registered with one redirect URI; the secret is on the next page only.
        await page.GetByRole(AriaRole.Link, new() { Name = "Register an application" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("Web application (server-side, confidential)").CheckAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Intranet");
        await page.GetByLabel("Redirect URIs (one per line)").FillAsync("https://intranet.example.com/callback");
        await page.GetByLabel("Only assigned users and groups may sign in").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Register application" }).ClickAsync();
        var secret = (await page.Locator("#secret").InnerTextAsync()).Trim();
        Assert.True(secret.Length >= 32, $"secret '{secret}'");
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Back" }).ClickAsync();
        await Assertions.Expect(page.Locator("#redirect-uris")).ToHaveTextAsync("https://intranet.example.com/callback");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await console.AxeAsync();

        // A second redirect URI.
        var uris = page.GetByLabel("Redirect URIs (one per line)");
        await uris.FillAsync("https://intranet.example.com/callback\nhttps://intranet.example.com/callback2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "settings are saved" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#redirect-uris")).ToHaveTextAsync("https://intranet.example.com/callback, https://intranet.example.com/callback2");
        await console.AxeAsync();

        // A user assigned by email: listed, and among the effective users.
        await page.GetByLabel("A user, by email").FillAsync(memberEmail);
        await page.GetByRole(AriaRole.Button, new() { Name = "Assign", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#assignment-count")).ToHaveTextAsync("1 assignments.");
        await Assertions.Expect(page.Locator("section[aria-labelledby=effective-h]").GetByRole(AriaRole.Link, new() { Name = memberEmail })).ToBeVisibleAsync();
        await console.AxeAsync();
        var applicationId = (await ApiAsync(app, $"/api/v1/tenants/{tenantId}/applications"))[0]!["id"]!.GetValue<string>();
        var stored = await ApiAsync(app, $"/api/v1/tenants/{tenantId}/applications/{applicationId}");
        Assert.Equal(2, stored["redirect_uris"]!.AsArray().Count);
        Assert.True(stored["assignment_required"]!.GetValue<bool>());

        // Rotation asks first, then shows the new secret once.
        await page.GetByRole(AriaRole.Link, new() { Name = "Rotate secret…" }).ClickAsync();
        await Assertions.Expect(page.GetByText("stops working at once")).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        var rotated = (await page.Locator("#secret").InnerTextAsync()).Trim();
        Assert.NotEqual(secret, rotated);
        await page.GetByRole(AriaRole.Link, new() { Name = "Back" }).ClickAsync();
        var html = await page.ContentAsync();
        Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
        Assert.DoesNotContain(rotated, html, StringComparison.Ordinal);

        // Unassigned after confirming.
        await page.GetByRole(AriaRole.Link, new() { Name = $"Remove {memberEmail}" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove assignment" }).ClickAsync();
        await Assertions.Expect(page.Locator("#assignment-count")).ToHaveTextAsync("Nobody is assigned.");
        console.AssertAccessible();
    }

    [PeerFact("chromium", "peers")]
    public async Task A_tenant_admin_creates_an_ldap_provider_whose_bind_password_is_never_shown_and_creates_and_revokes_a_scim_token()
    {
        const string BindPassword = "Ldap-Bind-Secret-2026";
        var (tenantId, slug, adminEmail) = await TenantWithAdminAsync(app, "TENANT_ADMIN");
        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(slug, adminEmail, Password);

        await page.GetByRole(AriaRole.Link, new() { Name = "Identity providers" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Add LDAP directory" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Head office LDAP");
        await page.GetByLabel("Server URL").FillAsync("ldaps://ldap.example.com");
        await page.GetByLabel("Base DN").FillAsync("dc=example,dc=com");
        await page.GetByLabel("Bind DN").FillAsync("cn=scaikey,dc=example,dc=com");
        await page.GetByLabel("Bind password").FillAsync(BindPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create identity provider" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "is created" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#secrets-set")).ToHaveTextAsync("bind_password");

        // Not in the page, not in its box; saving with the box empty keeps it.
        Assert.DoesNotContain(BindPassword, await page.ContentAsync(), StringComparison.Ordinal);
        await Assertions.Expect(page.GetByLabel("Bind password", new() { Exact = true })).ToHaveValueAsync(string.Empty);
        await Assertions.Expect(page.GetByText("A value is stored and is not shown.")).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByLabel("Sync interval in minutes").FillAsync("60");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save identity provider" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "is saved" })).ToBeVisibleAsync();
        Assert.DoesNotContain(BindPassword, await page.ContentAsync(), StringComparison.Ordinal);
        var provider = (await ApiAsync(app, $"/api/v1/tenants/{tenantId}/identity-providers"))[0]!;
        Assert.Equal(60, provider["config"]!["sync_interval_minutes"]!.GetValue<int>());
        Assert.Equal(["bind_password"], provider["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));

        // A SCIM token, shown once, then revoked after confirming.
        await page.GetByRole(AriaRole.Link, new() { Name = "SCIM tokens" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Entra ID provisioning");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var token = (await page.Locator("#secret").InnerTextAsync()).Trim();
        Assert.StartsWith("scim_", token, StringComparison.Ordinal);
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Back" }).ClickAsync();
        await Assertions.Expect(page.Locator("#token-total")).ToHaveTextAsync("1 tokens.");
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);
        using (var scim = app.WithToken(token))
        {
            await (await scim.GetAsync("/scim/v2/Users")).ShouldBeAsync(200);
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "Delete Entra ID provisioning" }).ClickAsync();
        await Assertions.Expect(page.GetByText("stops working at once")).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete token" }).ClickAsync();
        await Assertions.Expect(page.Locator("#token-total")).ToHaveTextAsync("0 tokens.");
        using (var scim = app.WithToken(token))
        {
            await (await scim.GetAsync("/scim/v2/Users")).ShouldBeAsync(401);
        }

        console.AssertAccessible();
    }

    [PeerFact("chromium", "peers")]
    public async Task A_platform_admin_rotates_the_signing_key_and_creates_and_deletes_an_admin_client()
    {
        var (_, slug, adminEmail) = await TenantWithAdminAsync(app, "PLATFORM_ADMIN");
        var activeBefore = (await ApiAsync(app, "/api/v1/admin/signing-keys")).AsArray()
            .Single(k => k!["use"]!.GetValue<string>() == "sig" && k["state"]!.GetValue<string>() == "ACTIVE")!["kid"]!.GetValue<string>();

        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(slug, adminEmail, Password);

        await page.GetByRole(AriaRole.Link, new() { Name = "Signing keys" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = activeBefore })).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Rotate signing key…" }).ClickAsync();
        await Assertions.Expect(page.GetByText("A new key signs every token from now on")).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate signing key" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "is rotated" })).ToBeVisibleAsync();
        await console.AxeAsync();
        var keys = (await ApiAsync(app, "/api/v1/admin/signing-keys")).AsArray();
        var activeAfter = keys.Single(k => k!["use"]!.GetValue<string>() == "sig" && k["state"]!.GetValue<string>() == "ACTIVE")!["kid"]!.GetValue<string>();
        Assert.NotEqual(activeBefore, activeAfter);
        Assert.Equal("PUBLISHED", keys.Single(k => k!["kid"]!.GetValue<string>() == activeBefore)!["state"]!.GetValue<string>());

        // An admin client: secret once, then deleted after confirming.
        await page.GetByRole(AriaRole.Link, new() { Name = "Admin clients" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Provisioning robot");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create admin client" }).ClickAsync();
        var secret = (await page.Locator("#secret").InnerTextAsync()).Trim();
        Assert.True(secret.Length >= 32, secret);
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Back" }).ClickAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Link, new() { Name = "Delete Provisioning robot" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete admin client" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "is deleted" })).ToBeVisibleAsync();
        Assert.DoesNotContain((await ApiAsync(app, "/api/v1/admin/clients?per_page=100")).AsArray(), c => c!["name"]!.GetValue<string>() == "Provisioning robot");
        console.AssertAccessible();
    }
}
