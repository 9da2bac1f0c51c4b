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

        // An id longer than any is the query's 422, like every other list's.
        Assert.Equal(["query.user_id|string_too_long"],
            await (await helpdesk.GetAsync($"/api/v1/tenants/{tenantId}/my-permissions?user_id={new string('u', 65)}")).ReadValidationErrorsAsync());
    }

    private async Task<string> PartnerAsync()
    {
        using var platform = await app.AdminAsync();
        return (await (await platform.PostAsJsonAsync("/api/v1/admin/partners", new { name = $"Partner {Guid.NewGuid():N}" })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task A_partner_admin_creates_a_tenant_and_its_first_admin_and_an_invalid_one_is_shown_next_to_its_fields()
    {
        var partnerId = await PartnerAsync();
        var (homeId, homeSlug) = await TenantAsync(partnerId);
        var (_, partnerAdmin) = await UserAsync(homeId, "PARTNER_ADMIN", partnerId);
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(homeSlug, partnerAdmin, Password);

        var list = await ConsoleInProcess.PageAsync(await browser.GetAsync("/console/tenants"), 200);
        Assert.Contains("New tenant…", list, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/console/partners\"", list, StringComparison.Ordinal);
        var token = ConsoleInProcess.FormToken(await ConsoleInProcess.PageAsync(await browser.GetAsync("/console/tenants/new"), 200));

        // A bad slug: the API's 422 next to the field, nothing created.
        var bad = await browser.PostAsync("/console/tenants/new", ConsoleInProcess.Form(("form_token", token), ("name", "Bad Slug"), ("slug", "Not A Slug"),
            ("email", "first@example.com")));
        var badHtml = await ConsoleInProcess.PageAsync(bad, 422);
        Assert.Matches("id=\"slug-error\">[^<]*slug must be", badHtml);

        var email = $"first-admin-{Guid.NewGuid():N}@example.com";
        var name = $"Customer {Guid.NewGuid():N}";
        var done = await browser.PostAsync("/console/tenants/new", ConsoleInProcess.Form(("form_token", token), ("name", name), ("slug", ""),
            ("email", email), ("first_name", "Ada"), ("last_name", "Admin")));
        Assert.Contains("Tenant ready", await ConsoleInProcess.PageAsync(done, 200), StringComparison.Ordinal);

        using var platform = await app.AdminAsync();
        var tenants = (await (await platform.GetAsync($"/api/v1/admin/tenants?partner_id={partnerId}&per_page=100")).ReadJsonAsync(200))["data"]!.AsArray();
        var tenant = tenants.Single(t => t!["name"]!.GetValue<string>() == name)!;
        Assert.DoesNotContain(tenants, t => t!["name"]!.GetValue<string>() == "Bad Slug");
        var tenantId = tenant["id"]!.GetValue<string>();
        var user = (await (await platform.GetAsync($"/api/v1/tenants/{tenantId}/users?search={Uri.EscapeDataString(email)}")).ReadJsonAsync(200))["data"]!.AsArray().Single()!;
        var roles = (await (await platform.GetAsync($"/api/v1/admin/role-assignments?principal_id={user["id"]}")).ReadJsonAsync(200))["data"]!.AsArray();
        Assert.Equal("TENANT_ADMIN", roles.Single()!["role"]!.GetValue<string>());
        Assert.Equal(tenantId, roles.Single()!["tenant_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tenant_settings_show_422s_next_to_their_fields_and_a_conflicting_edit_shows_both_versions_without_saving()
    {
        var partnerId = await PartnerAsync();
        var (homeId, homeSlug) = await TenantAsync(partnerId);
        var (_, partnerAdmin) = await UserAsync(homeId, "PARTNER_ADMIN", partnerId);
        var (tenantId, _) = await TenantAsync(partnerId);
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(homeSlug, partnerAdmin, Password);
        var path = $"/console/tenants/{tenantId}/settings";
        var page = await ConsoleInProcess.PageAsync(await browser.GetAsync(path), 200);
        var token = ConsoleInProcess.FormToken(page);
        var version = System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(page, "name=\"version\" value=\"([^\"]*)\"").Groups[1].Value);

        (string, string)[] Fields(string minLength, string uris) =>
        [
            ("form_token", token), ("version", version), ("password_policy.min_length", minLength), ("password_policy.max_length", "256"),
            ("password_policy.block_common_passwords", "true"), ("lockout_policy.max_failed_attempts", "5"), ("lockout_policy.lockout_duration_minutes", "15"),
            ("mfa_policy.required", "true"), ("allowed_redirect_uris", uris),
        ];

        var invalid = await browser.PostAsync(path, ConsoleInProcess.Form(Fields("3", "https://app.example/cb\nnot a uri")));
        var html = await ConsoleInProcess.PageAsync(invalid, 422);
        Assert.Matches("id=\"password_policy.min_length-error\">[^<]+", html);
        Assert.Matches("id=\"allowed_redirect_uris-error\">[^<]*must be an absolute", html);

        // Control: a valid edit is saved, MFA required included.
        var saved = await browser.PostAsync(path, ConsoleInProcess.Form(Fields("14", "https://app.example/cb")));
        await ConsoleInProcess.PageAsync(saved, 302);
        using var platform = await app.AdminAsync();
        var settings = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["settings"]!;
        Assert.Equal(14, settings["password_policy"]!["min_length"]!.GetValue<int>());
        Assert.True(settings["mfa_policy"]!["required"]!.GetValue<bool>());
        Assert.False(settings["require_approval"]!.GetValue<bool>());

        // Someone else changes the tenant; the form loaded before is not saved over it: both versions are shown.
        await (await platform.PatchAsJsonAsync($"/api/v1/admin/tenants/{tenantId}", new { settings = new { password_policy = new { min_length = 20 } } })).ShouldBeAsync(200);
        var stale = await browser.PostAsync(path, ConsoleInProcess.Form(Fields("16", "https://app.example/cb")));
        var conflict = await ConsoleInProcess.PageAsync(stale, 409);
        Assert.Contains("Someone else changed these settings", conflict, StringComparison.Ordinal);
        Assert.Matches("<td>16</td><td>20</td>", conflict);
        settings = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["settings"]!;
        Assert.Equal(20, settings["password_policy"]!["min_length"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_tenant_admin_gets_no_partner_or_tenancy_pages_and_forged_posts_are_refused_by_the_api()
    {
        var (tenantId, slug) = await TenantAsync();
        var (_, admin) = await UserAsync(tenantId, "TENANT_ADMIN");
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(slug, admin, Password);

        var tenants = await browser.GetAsync("/console/tenants");
        await ConsoleInProcess.PageAsync(tenants, 302);
        Assert.Equal($"/console/tenants/{tenantId}/users", tenants.Headers.Location!.OriginalString);
        var users = await ConsoleInProcess.PageAsync(await browser.GetAsync($"/console/tenants/{tenantId}/users"), 200);
        Assert.DoesNotContain("/console/partners", users, StringComparison.Ordinal);
        Assert.DoesNotContain("/settings", users, StringComparison.Ordinal);
        await ConsoleInProcess.PageAsync(await browser.GetAsync("/console/partners"), 403);
        await ConsoleInProcess.PageAsync(await browser.GetAsync($"/console/tenants/{tenantId}/settings"), 403);

        // Forged with a valid form token: the API refuses each, and nothing is created or changed.
        var token = ConsoleInProcess.FormToken(users);
        await ConsoleInProcess.PageAsync(await browser.PostAsync("/console/partners", ConsoleInProcess.Form(("form_token", token), ("name", "Forged partner"))), 403);
        var forgedTenant = $"Forged {Guid.NewGuid():N}";
        await ConsoleInProcess.PageAsync(await browser.PostAsync("/console/tenants/new",
            ConsoleInProcess.Form(("form_token", token), ("name", forgedTenant), ("email", "x@example.com"))), 403);
        await ConsoleInProcess.PageAsync(await browser.PostAsync($"/console/tenants/{tenantId}/settings",
            ConsoleInProcess.Form(("form_token", token), ("version", ""), ("password_policy.min_length", "8"))), 403);
        using var platform = await app.AdminAsync();
        var all = (await (await platform.GetAsync("/api/v1/admin/tenants?per_page=100")).ReadJsonAsync(200))["data"]!.AsArray();
        Assert.DoesNotContain(all, t => t!["name"]!.GetValue<string>() == forgedTenant);
        var partners = (await (await platform.GetAsync("/api/v1/admin/partners?per_page=100")).ReadJsonAsync(200))["data"]!.AsArray();
        Assert.DoesNotContain(partners, p => p!["name"]!.GetValue<string>() == "Forged partner");
    }
}
