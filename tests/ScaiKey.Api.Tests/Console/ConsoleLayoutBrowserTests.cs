using Microsoft.Playwright;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// Issue 18's "works with the keyboard alone, readable at 320 px wide", checked in chromium on the console's pages:
/// at 320 CSS pixels no page scrolls sideways (wide tables scroll inside their own region), and an admin reaches,
/// with Tab and Enter only, the search, a user, and an action's confirmation, with the focus always visible.
/// </summary>
public sealed class ConsoleLayoutBrowserTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = ConsoleAppsHttpTests.Password;

    private async Task<(string TenantId, string Slug, string AdminEmail, string UserEmail)> TenantAsync()
    {
        var (tenantId, slug, adminEmail) = await ConsoleAppsHttpTests.TenantWithAdminAsync(app, "TENANT_ADMIN");
        using var platform = await app.AdminAsync();
        var userEmail = $"a-rather-long-address-for-a-narrow-screen-{Guid.NewGuid().ToString("N")[..12]}@subdivision.example.com";
        await app.CreateUserIdAsync(tenantId, userEmail, Password);
        await (await platform.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/groups", new { name = "Engineering" })).ShouldBeAsync(201);
        await (await platform.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/ous", new { name = "Headquarters" })).ShouldBeAsync(201);
        await (await platform.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications",
            new { name = "Payroll", type = "WEB", redirect_uris = new[] { "https://payroll.example.com/cb" } })).ShouldBeAsync(201);
        return (tenantId, slug, adminEmail, userEmail);
    }

    [PeerFact("chromium", "peers")]
    public async Task At_320_pixels_wide_no_console_page_scrolls_sideways()
    {
        var (tenantId, slug, adminEmail, userEmail) = await TenantAsync();
        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(slug, adminEmail, Password);
        await page.SetViewportSizeAsync(320, 640);

        var userPath = await page.GetByRole(AriaRole.Link, new() { Name = userEmail }).GetAttributeAsync("href");
        var tenant = $"/console/tenants/{tenantId}";
        string[] paths =
        [
            $"{tenant}/users", userPath!, $"{tenant}/groups", $"{tenant}/ous", $"{tenant}/applications",
            $"{tenant}/audit", $"{tenant}/users?search=rather&sort_by=email",
        ];
        var wide = new List<string>();
        foreach (var path in paths)
        {
            var response = await page.GotoAsync(console.BaseUrl + path);
            Assert.True(response is { Status: 200 }, $"{path}: {response?.Status}");
            var (scroll, client) = await WidthsAsync(page);
            if (scroll > client)
            {
                wide.Add($"{path}: content {scroll}px in a {client}px window");
            }
        }

        Assert.True(wide.Count == 0, "pages wider than 320 px:\n" + string.Join("\n", wide));
    }

    [PeerFact("chromium", "peers")]
    public async Task An_admin_finds_a_user_and_reaches_a_confirmation_with_the_keyboard_alone_and_always_sees_the_focus()
    {
        var (tenantId, slug, adminEmail, userEmail) = await TenantAsync();
        await using var console = await ConsoleBrowser.StartAsync(app);
        var page = console.Page;
        await console.SignInAsync(slug, adminEmail, Password);
        await page.GotoAsync($"{console.BaseUrl}/console/tenants/{tenantId}/users");

        await TabToAsync(page, "input[name=search]");
        await page.Keyboard.TypeAsync("rather-long-address");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#total")).ToHaveTextAsync("Showing 1–1 of 1 users.");

        await TabToAsync(page, $"a:text-is('{userEmail}')");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/users/[0-9a-f-]+$"));

        await TabToAsync(page, "a:text-is('Lock…')");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/confirm/lock"));
        await TabToAsync(page, "button[type=submit]");
    }

    private static async Task<(int Scroll, int Client)> WidthsAsync(IPage page)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        return (widths[0], widths[1]);
    }

    /// <summary>Presses Tab until the element the selector names has the focus (at most 60 times), checking each stop shows it.</summary>
    private static async Task TabToAsync(IPage page, string selector)
    {
        var target = page.Locator(selector).First;
        for (var presses = 0; presses < 60; presses++)
        {
            await page.Keyboard.PressAsync("Tab");
            var outline = await page.EvaluateAsync<string>(
                "() => { const e = document.activeElement; if (!e || e === document.body) return 'body'; const s = getComputedStyle(e); return s.outlineStyle + ' ' + s.outlineWidth; }");
            Assert.True(outline == "body" || !outline.StartsWith("none", StringComparison.Ordinal), $"focus not visible on {await page.EvaluateAsync<string>("() => document.activeElement.outerHTML.slice(0, 200)")}: {outline}");
            if (await target.EvaluateAsync<bool>("e => e === document.activeElement"))
            {
                return;
            }
        }

        Assert.Fail($"{selector} was not reached with Tab on {page.Url}");
    }
}
