using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.AdminConsole;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The console's tenancy pages, form tokens and per-user buttons over HTTP with real console sessions (no browser):
/// refusals, each with the control that passes.
/// </summary>
public sealed class ConsoleTenancyHttpTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Console-Tenancy-2026!";

    private async Task<(string Id, string Slug)> TenantAsync(string? partnerId = null)
    {
        var tenantId = await app.CreateTenantAsync(partnerId: partnerId);
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        return (tenantId, slug);
    }

    /// <summary>A user of the tenant holding the role (none: a plain user), granted by the platform admin.</summary>
    private async Task<(string Id, string Email)> UserAsync(string tenantId, string? role = null, string? partnerId = null)
    {
        var email = $"{(role ?? "user").ToLowerInvariant().Replace('_', '-')}-{Guid.NewGuid():N}@example.com";
        var userId = await app.CreateUserIdAsync(tenantId, email, Password);
        if (role is not null)
        {
            using var admin = await app.AdminAsync();
            await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments", new
            {
                principal_type = "USER", principal_id = userId, role,
                partner_id = role == "PARTNER_ADMIN" ? partnerId : null, tenant_id = role == "PARTNER_ADMIN" ? null : tenantId,
            })).ShouldBeAsync(201);
        }

        return (userId, email);
    }

    private static string UserPath(string tenantId, string userId) => $"/console/tenants/{tenantId}/users/{userId}";

    [Fact]
    public async Task A_form_token_minted_in_admin_As_console_session_is_refused_in_admin_Bs_session()
    {
        var (tenantA, slugA) = await TenantAsync();
        var (tenantB, slugB) = await TenantAsync();
        var (_, adminA) = await UserAsync(tenantA, "TENANT_ADMIN");
        var (_, adminB) = await UserAsync(tenantB, "TENANT_ADMIN");
        var (targetB, _) = await UserAsync(tenantB);
        await using var console = new ConsoleInProcess(app);

        // One browser, so the double-submit cookie is the same in both sessions: only the session binding differs.
        using var browser = console.Browser();
        await console.SignInAsync(browser, slugA, adminA, Password);
        var tokenA = ConsoleInProcess.FormToken(await ConsoleInProcess.PageAsync(await browser.GetAsync($"/console/tenants/{tenantA}/users"), 200));
        await console.SignInAsync(browser, slugB, adminB, Password);
        var page = await ConsoleInProcess.PageAsync(await browser.GetAsync(UserPath(tenantB, targetB)), 200);
        var tokenB = ConsoleInProcess.FormToken(page);
        Assert.NotEqual(tokenA, tokenB);

        var refused = await browser.PostAsync(UserPath(tenantB, targetB) + "/unlock", ConsoleInProcess.Form(("form_token", tokenA)));
        Assert.Contains("Form expired", await ConsoleInProcess.PageAsync(refused, 400), StringComparison.Ordinal);

        // Control: B's own token passes the gate and the unlock is done.
        var done = await browser.PostAsync(UserPath(tenantB, targetB) + "/unlock", ConsoleInProcess.Form(("form_token", tokenB)));
        await ConsoleInProcess.PageAsync(done, 302);
        Assert.EndsWith("?notice=unlocked", done.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hosted_pages_form_token_is_refused_by_the_console()
    {
        var (tenantId, slug) = await TenantAsync();
        var (_, admin) = await UserAsync(tenantId, "TENANT_ADMIN");
        var (target, _) = await UserAsync(tenantId);
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(slug, admin, Password);

        // The first console page gives the browser its form secret; a hosted page's token for that same secret.
        var first = await browser.GetAsync(UserPath(tenantId, target));
        var page = await ConsoleInProcess.PageAsync(first, 200);
        var secret = first.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])
            .Single(c => c.StartsWith(ConsoleFormTokens.CookieName + "=", StringComparison.Ordinal))[(ConsoleFormTokens.CookieName.Length + 1)..];
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"{FormProtection.CookieName}={secret}";
        var hosted = console.Services.GetRequiredService<FormProtection>().IssueToken(context, "/console/");

        var refused = await browser.PostAsync(UserPath(tenantId, target) + "/unlock", ConsoleInProcess.Form(("form_token", hosted)));
        await ConsoleInProcess.PageAsync(refused, 400);

        // Control: the console page's own token.
        var done = await browser.PostAsync(UserPath(tenantId, target) + "/unlock", ConsoleInProcess.Form(("form_token", ConsoleInProcess.FormToken(page))));
        await ConsoleInProcess.PageAsync(done, 302);
    }

    [Fact]
    public async Task A_helpdesk_viewing_a_tenant_admin_sees_no_lock_reset_or_disable_and_the_forged_post_is_refused_by_the_api()
    {
        var (tenantId, slug) = await TenantAsync();
        var (_, helpdesk) = await UserAsync(tenantId, "TENANT_HELPDESK");
        var (adminId, _) = await UserAsync(tenantId, "TENANT_ADMIN");
        var (plainId, _) = await UserAsync(tenantId);
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(slug, helpdesk, Password);

        var adminPage = await ConsoleInProcess.PageAsync(await browser.GetAsync(UserPath(tenantId, adminId)), 200);
        foreach (var button in new[] { "Lock…", "Reset password…", "Disable…", "Unlock", "Disable MFA…", "Delete user…" })
        {
            Assert.DoesNotContain(">" + button + "<", adminPage, StringComparison.Ordinal);
        }

        // Control: the same helpdesk on a user without roles is offered its support actions.
        var plainPage = await ConsoleInProcess.PageAsync(await browser.GetAsync(UserPath(tenantId, plainId)), 200);
        foreach (var button in new[] { "Lock…", "Reset password…", "Disable…" })
        {
            Assert.Contains(">" + button + "<", plainPage, StringComparison.Ordinal);
        }

        // Pressed anyway with a valid form token: the API refuses, the console shows its refusal, nothing changes.
        var token = ConsoleInProcess.FormToken(adminPage);
        var forged = await browser.PostAsync(UserPath(tenantId, adminId) + "/lock", ConsoleInProcess.Form(("form_token", token), ("reason", "forged")));
        Assert.Contains("holds roles beyond yours", await ConsoleInProcess.PageAsync(forged, 403), StringComparison.Ordinal);
        var reset = await browser.PostAsync(UserPath(tenantId, adminId) + "/reset", ConsoleInProcess.Form(("form_token", token), ("method", "TEMPORARY")));
        await ConsoleInProcess.PageAsync(reset, 403);
        using var platform = await app.AdminAsync();
        Assert.Equal("ACTIVE", (await (await platform.GetAsync($"/api/v1/tenants/{tenantId}/users/{adminId}")).ReadJsonAsync(200))["data"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task My_permissions_for_a_user_leaves_out_what_the_users_routes_would_refuse()
    {
        var (tenantId, slug) = await TenantAsync();
        var (_, helpdeskEmail) = await UserAsync(tenantId, "TENANT_HELPDESK");
        var (adminId, _) = await UserAsync(tenantId, "TENANT_ADMIN");
        var (plainId, _) = await UserAsync(tenantId);
        var tokens = await ConsoleSignIn.TokensAsync(app, slug, helpdeskEmail, Password);
        using var helpdesk = app.WithToken(tokens["access_token"]!.GetValue<string>());

        async Task<List<string>> PermissionsAsync(string query) =>
            (await (await helpdesk.GetAsync($"/api/v1/tenants/{tenantId}/my-permissions{query}")).ReadJsonAsync(200))["data"]!["permissions"]!
                .AsArray().Select(p => p!.GetValue<string>()).ToList();

        Assert.Equal(["users.read", "directory.read"], await PermissionsAsync($"?user_id={adminId}"));
        Assert.Equal(["users.read", "users.support", "directory.read"], await PermissionsAsync($"?user_id={plainId}"));
        Assert.Equal(["users.read", "users.support", "directory.read"], await PermissionsAsync(string.Empty));

        // The API agrees: unlocking the admin is refused, the plain user is not.
        await (await helpdesk.PostAsync($"/api/v1/tenants/{tenantId}/users/{adminId}/unlock", null)).ReadProblemAsync(403);
        await (await helpdesk.PostAsync($"/api/v1/tenants/{tenantId}/users/{plainId}/unlock", null)).ShouldBeAsync(200);

        // A user of another tenant is not found here.
        var (otherTenant, _) = await TenantAsync();
        var (stranger, _) = await UserAsync(otherTenant);
        await (await helpdesk.GetAsync($"/api/v1/tenants/{tenantId}/my-permissions?user_id={stranger}")).ReadProblemAsync(404);
    }
}
