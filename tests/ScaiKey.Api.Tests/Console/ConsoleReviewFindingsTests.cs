using System.Net;
using System.Security.Cryptography;
using ScaiKey.Api.AdminConsole;
using ScaiKey.Api.Security;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The findings of the attacker's review of the console (session of 2026-12-05), each with its control: a deep group
/// chain, a confirmation page whose words and target came from the link, a role assignment of another tenant
/// described as this one's, sealed values too short to be one, and return URLs a redirect cannot carry.
/// </summary>
public sealed class ConsoleReviewFindingsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = ConsoleAppsHttpTests.Password;

    private Task<(string TenantId, string Slug, string Email)> TenantWithAdminAsync(string role = "TENANT_ADMIN") =>
        ConsoleAppsHttpTests.TenantWithAdminAsync(app, role);

    [Fact]
    public async Task A_group_chain_thousands_deep_renders_32_levels_and_links_to_the_rest()
    {
        var (tenantId, slug, email) = await TenantWithAdminAsync();
        const int levels = 2_000;
        await app.DbAsync(async db =>
        {
            string? parent = null;
            for (var i = 0; i < levels; i++)
            {
                var id = Guid.CreateVersion7().ToString();
                db.Groups.Add(new Group { Id = id, TenantId = tenantId, Name = $"g{i:D4}", ParentGroupId = parent, CreatedAt = DateTime.UtcNow });
                parent = id;
            }

            await db.SaveChangesAsync();
        });
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(slug, email, Password);

        var html = await ConsoleInProcess.PageAsync(await browser.GetAsync($"/console/tenants/{tenantId}/groups"), 200);
        Assert.Equal(DirectoryPages.MaxTreeLevels, html.Split("<ul class=\"tree\">").Length - 1);
        Assert.Contains("more levels on its page", html, StringComparison.Ordinal);
        Assert.Contains(">g0031</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">g0032</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_unassign_confirmation_names_what_the_api_says_and_refuses_an_id_it_does_not_know()
    {
        var (tenantId, slug, email) = await TenantWithAdminAsync();
        using var platform = await app.AdminAsync();
        var applicationId = (await (await platform.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications",
            new { name = "Payroll", type = "WEB", redirect_uris = new[] { "https://payroll.example.com/cb" } })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var assigneeEmail = $"assignee-{Guid.NewGuid():N}@example.com";
        var assignee = await app.CreateUserIdAsync(tenantId, assigneeEmail, Password);
        var assignment = (await (await platform.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications/{applicationId}/assignments", new { user_id = assignee }))
            .ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(slug, email, Password);
        var confirm = $"/console/tenants/{tenantId}/applications/{applicationId}/confirm/unassign";

        // ".." as the assignment would have made the button's action .../applications/{id}/delete.
        var dots = await ConsoleInProcess.PageAsync(await browser.GetAsync($"{confirm}?assignment=..&who=the%20expired%20test%20account"), 404);
        Assert.DoesNotContain("expired test account", dots, StringComparison.Ordinal);
        Assert.DoesNotContain("/delete\"", dots, StringComparison.Ordinal);

        // A real assignment: the page names its user as the API knows it, whatever words the link carried.
        var real = await ConsoleInProcess.PageAsync(await browser.GetAsync($"{confirm}?assignment={assignment}&who=All%20staff"), 200);
        Assert.Contains(assigneeEmail, real, StringComparison.Ordinal);
        Assert.DoesNotContain("All staff", real, StringComparison.Ordinal);
        Assert.Contains($"/assignments/{assignment}/delete", real, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_assignment_of_another_tenant_is_not_found_on_this_tenants_revoke_confirmation()
    {
        var (tenantA, slugA, platformEmail) = await TenantWithAdminAsync("PLATFORM_ADMIN");
        var (tenantB, _, _) = await TenantWithAdminAsync();
        using var platform = await app.AdminAsync();
        var assignmentsB = await (await platform.GetAsync($"/api/v1/admin/role-assignments?tenant_id={tenantB}")).ReadJsonAsync(200);
        var assignmentB = assignmentsB["data"]![0]!["id"]!.GetValue<string>();
        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(slugA, platformEmail, Password);

        await ConsoleInProcess.PageAsync(await browser.GetAsync($"/console/tenants/{tenantA}/roles/{assignmentB}/confirm-revoke"), 404);
        // Control: on its own tenant's page the same assignment is described.
        await ConsoleInProcess.PageAsync(await browser.GetAsync($"/console/tenants/{tenantB}/roles/{assignmentB}/confirm-revoke"), 200);
    }

    [Fact]
    public async Task A_session_cookie_too_short_to_be_sealed_is_no_session_not_a_500()
    {
        await using var console = new ConsoleInProcess(app);
        using var browser = console.Browser();
        var request = new HttpRequestMessage(HttpMethod.Get, "/console");
        request.Headers.Add("Cookie", "scaikey_console=QUFBQQ");
        var response = await browser.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.Redirect, $"{(int)response.StatusCode}\n{await response.Content.ReadAsStringAsync()}");
        Assert.StartsWith("/console/sign-in", response.Headers.Location!.OriginalString, StringComparison.Ordinal);

        var keyRing = new KeyRing(RandomNumberGenerator.GetBytes(32));
        Assert.Throws<CryptographicException>(() => keyRing.Open("QUFBQQ==", "any"));
        Assert.Equal("x"u8.ToArray(), keyRing.Open(keyRing.Seal("x"u8.ToArray(), "any"), "any"));
    }

    [Theory]
    [InlineData("/console/tenants", true)]
    [InlineData("/console/tenants?page=2&sort_by=email", true)]
    [InlineData("/console\r\nSet-Cookie: x=1", false)]
    [InlineData("/console/\u00e9", false)]
    [InlineData("/console/a b", false)]
    [InlineData("//evil.example/console", false)]
    public void Only_printable_ascii_console_paths_are_followed_after_sign_in(string url, bool followed) =>
        Assert.Equal(followed, ConsolePages.IsLocalConsoleUrl(url));
}
