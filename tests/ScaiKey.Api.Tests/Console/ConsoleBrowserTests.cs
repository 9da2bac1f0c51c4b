using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OtpNet;
using ScaiKey.Api.Mfa;
using ScaiKey.Api.Tests.Infrastructure;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The admin console's users page group walked end to end by a real admin in chromium, on the database of the fixture
/// (SQLite, or PostgreSQL with SCAIKEY_TEST_POSTGRES): every page visited is checked by axe-core.
/// </summary>
public sealed class ConsoleBrowserTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Console-Browser-2026!";

    private static async Task GrantAsync(ScaiKeyApp app, string userId, string role, string tenantId)
    {
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = userId, role, tenant_id = tenantId })).ShouldBeAsync(201);
    }

    private static async Task<JsonNode> UserAsync(ScaiKeyApp app, string tenantId, string userId)
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.GetAsync($"/api/v1/tenants/{tenantId}/users/{userId}")).ReadJsonAsync(200))["data"]!;
    }

    [PeerFact("chromium", "peers")]
    public async Task A_tenant_admin_finds_a_user_among_10000_locks_unlocks_resets_disables_mfa_and_reads_the_audit_trail()
    {
        // 10,000 users written by the seed command's bulk writer, then the admin and the user to find.
        var seeded = await app.RunCliAsync(["seed", "--tenants", "1", "--users", "10000", "--other-users", "0"]);
        Assert.True(seeded.ExitCode == 0, seeded.Error);
        var tenant = JsonNode.Parse(seeded.Out)!["tenants"]![0]!;
        var tenantId = tenant["id"]!.GetValue<string>();
        var slug = tenant["slug"]!.GetValue<string>();
        var adminEmail = $"console-admin-{Guid.NewGuid():N}@example.com";
        var adminId = await app.CreateUserIdAsync(tenantId, adminEmail, Password);
        await GrantAsync(app, adminId, "TENANT_ADMIN", tenantId);
        var needleEmail = $"needle-{Guid.NewGuid():N}@example.com";
        var needleId = await app.CreateUserIdAsync(tenantId, needleEmail, Password);

        await using var console = await ConsoleBrowser.StartAsync(app);

        // The user has a confirmed TOTP factor, enrolled through the service's own second-factor code.
        await using (var scope = console.Services.CreateAsyncScope())
        {
            var factors = scope.ServiceProvider.GetRequiredService<SecondFactors>();
            var enrolment = await factors.BeginTotpAsync(tenantId, needleId, "Phone", "ScaiKey tests", needleId, CancellationToken.None);
            var code = TotpCodes.Compute(Base32Encoding.ToBytes(enrolment.Secret), DateTime.UtcNow);
            Assert.NotNull(await factors.ConfirmTotpAsync(tenantId, needleId, enrolment.FactorId, code, CancellationToken.None));
        }

        var page = console.Page;
        await console.SignInAsync(slug, adminEmail, Password);

        // A tenant admin has no tenants list: the console opens their tenant's users, with the exact total.
        Assert.Equal($"{console.BaseUrl}/console/tenants/{tenantId}/users", page.Url);
        await Assertions.Expect(page.Locator("#total")).ToContainTextAsync("of 10,002 users");
        await console.AxeAsync();

        // Found by search.
        await page.GetByLabel("Search").FillAsync(needleEmail[..20]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.Locator("#total")).ToHaveTextAsync("Showing 1–1 of 1 users.");
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = needleEmail }).ClickAsync();
        await Assertions.Expect(page.Locator("#user-mfa")).ToHaveTextAsync("On");
        await console.AxeAsync();

        // A forged POST (no form token) changes nothing.
        var forged = await page.APIRequest.PostAsync($"{console.BaseUrl}/console/tenants/{tenantId}/users/{needleId}/lock",
            new() { Form = page.APIRequest.CreateFormData().Set("reason", "forged"), MaxRedirects = 0 });
        Assert.Equal(400, forged.Status);
        Assert.NotEqual("LOCKED", (await UserAsync(app, tenantId, needleId))["status"]!.GetValue<string>());

        // Lock: confirmed first, with what it does.
        await page.GetByRole(AriaRole.Link, new() { Name = "Lock…" }).ClickAsync();
        await Assertions.Expect(page.GetByText("will not be able to sign in until unlocked")).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GetByLabel("Reason (recorded in the audit trail)").FillAsync("Console test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Lock user" }).ClickAsync();
        await Assertions.Expect(page.Locator("#user-status")).ToHaveTextAsync("Locked");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "locked" })).ToBeVisibleAsync();
        await console.AxeAsync();
        Assert.Equal("LOCKED", (await UserAsync(app, tenantId, needleId))["status"]!.GetValue<string>());

        // Unlock.
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlock" }).ClickAsync();
        await Assertions.Expect(page.Locator("#user-status")).Not.ToHaveTextAsync("Locked");
        Assert.NotEqual("LOCKED", (await UserAsync(app, tenantId, needleId))["status"]!.GetValue<string>());

        // Reset with a temporary password, shown once.
        await page.GetByRole(AriaRole.Link, new() { Name = "Reset password…" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByLabel("Create a temporary password").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Reset password" }).ClickAsync();
        var temporary = (await page.Locator("#secret").InnerTextAsync()).Trim();
        Assert.True(temporary.Length >= 12, $"temporary password '{temporary}'");
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Back" }).ClickAsync();
        Assert.DoesNotContain(temporary, await page.ContentAsync(), StringComparison.Ordinal);

        // MFA disabled, after confirming.
        await page.GetByRole(AriaRole.Link, new() { Name = "Disable MFA…" }).ClickAsync();
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Disable MFA" }).ClickAsync();
        await Assertions.Expect(page.Locator("#user-mfa")).ToHaveTextAsync("Off");
        Assert.False((await UserAsync(app, tenantId, needleId))["mfa_enabled"]!.GetValue<bool>());

        // The user's audit trail names each action, done by the admin.
        var trail = page.Locator("section[aria-labelledby=audit-h]");
        foreach (var action in new[] { "user.status_changed", "user.unlocked", "user.password_reset", "user.mfa_disabled" })
        {
            await Assertions.Expect(trail.GetByRole(AriaRole.Cell, new() { Name = action, Exact = true }).First).ToBeVisibleAsync();
        }

        await Assertions.Expect(trail).ToContainTextAsync(adminId);
        await console.AxeAsync();

        // Sign-out ends the console session and the ScaiKey session: /console asks to sign in again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Signed out" })).ToBeVisibleAsync();
        await console.AxeAsync();
        await page.GotoAsync(console.BaseUrl + "/console");
        Assert.StartsWith(console.BaseUrl + "/console/sign-in", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain(await page.Context.CookiesAsync([console.BaseUrl]), c => c.Name is "scaikey_signin" or "scaikey_console");

        console.AssertAccessible();
    }

    [PeerFact("chromium", "peers")]
    public async Task A_helpdesk_sees_only_the_buttons_it_may_press_and_the_api_refuses_the_others_anyway()
    {
        var tenantId = await app.CreateTenantAsync();
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var helpdeskEmail = $"helpdesk-{Guid.NewGuid():N}@example.com";
        var helpdeskId = await app.CreateUserIdAsync(tenantId, helpdeskEmail, Password);
        await GrantAsync(app, helpdeskId, "TENANT_HELPDESK", tenantId);
        var targetEmail = $"target-{Guid.NewGuid():N}@example.com";
        var targetId = await app.CreateUserIdAsync(tenantId, targetEmail, Password);

        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(slug, helpdeskEmail, Password);
        await console.AxeAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = targetEmail }).ClickAsync();
        await Assertions.Expect(page.Locator("#user-status")).ToBeVisibleAsync();
        await console.AxeAsync();

        // Support actions are offered; editing, deleting and the audit trail are not.
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Reset password…" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Lock…" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Delete user…" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save profile" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit trail" })).ToHaveCountAsync(0);

        // Pressed anyway, with a valid form token, through the console: the API refuses and nothing is deleted.
        var token = await page.Locator("input[name=form_token]").First.InputValueAsync();
        var deleted = await page.APIRequest.PostAsync($"{console.BaseUrl}/console/tenants/{tenantId}/users/{targetId}/delete", new()
        {
            Form = page.APIRequest.CreateFormData().Set("form_token", token).Set("confirm_email", targetEmail), MaxRedirects = 0,
        });
        Assert.Equal(403, deleted.Status);
        var profile = await page.APIRequest.PostAsync($"{console.BaseUrl}/console/tenants/{tenantId}/users/{targetId}/profile", new()
        {
            Form = page.APIRequest.CreateFormData().Set("form_token", token).Set("etag", "\"1\"").Set("email", targetEmail).Set("first_name", "Mallory"),
            MaxRedirects = 0,
        });
        Assert.Equal(403, profile.Status);

        // And straight to the API with the helpdesk's own console token: refused; a support action (control) is not.
        var tokens = await ConsoleSignIn.TokensAsync(app, slug, helpdeskEmail, Password);
        using var helpdesk = app.WithToken(tokens["access_token"]!.GetValue<string>());
        await (await helpdesk.DeleteAsync($"/api/v1/tenants/{tenantId}/users/{targetId}?confirm_email={Uri.EscapeDataString(targetEmail)}")).ReadProblemAsync(403);
        await (await helpdesk.PatchAsJsonAsync($"/api/v1/tenants/{tenantId}/users/{targetId}", new { first_name = "Mallory" })).ReadProblemAsync(403);
        var permissions = (await (await helpdesk.GetAsync($"/api/v1/tenants/{tenantId}/my-permissions")).ReadJsonAsync(200))["data"]!["permissions"]!
            .AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Equal(["users.read", "users.support", "directory.read"], permissions);
        await (await helpdesk.PostAsync($"/api/v1/tenants/{tenantId}/users/{targetId}/unlock", null)).ShouldBeAsync(200);
        Assert.Null((await UserAsync(app, tenantId, targetId))["first_name"]);

        console.AssertAccessible();
    }
}
