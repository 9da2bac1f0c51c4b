using System.Net;
using System.Text.RegularExpressions;
using ScaiKey.Api.Tests.AdminConsole;

namespace ScaiKey.Api.Tests;

/// <summary>
/// A tenant's branding (settings.branding: display name, logo URL, primary colour) on its hosted pages: shown, written
/// encoded, the logo's origin the only image source the CSP adds, other tenants unchanged; the API's validation; the
/// console's settings form.
/// </summary>
public sealed class HostedBrandingTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Branding-Console-2026!";

    private async Task<(string Id, string Slug)> TenantAsync(string? partnerId = null)
    {
        var tenantId = await app.CreateTenantAsync(partnerId: partnerId);
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        return (tenantId, slug);
    }

    private async Task<System.Text.Json.Nodes.JsonNode> PatchBrandingAsync(string tenantId, object branding, int status = 200)
    {
        using var platform = await app.AdminAsync();
        return await (await platform.PatchAsJsonAsync($"/api/v1/admin/tenants/{tenantId}", new { settings = new { branding } })).ReadJsonAsync(status);
    }

    private static string Csp(HttpResponseMessage response) => response.Headers.GetValues("Content-Security-Policy").Single();

    [Fact]
    public async Task A_branded_tenants_login_page_shows_its_name_logo_and_colour_and_allows_only_the_logos_origin()
    {
        var (tenantId, slug) = await TenantAsync();
        var (_, otherSlug) = await TenantAsync();
        var saved = await PatchBrandingAsync(tenantId, new
        {
            display_name = "Acme <Sign-in> & Co",
            logo_url = "https://cdn.acme.example:8443/brand/logo.svg?v=2&x=1",
            primary_color = "#FFD700",
        });
        var branding = saved["data"]!["settings"]!["branding"]!;
        Assert.Equal("Acme <Sign-in> & Co", branding["display_name"]!.GetValue<string>());
        Assert.Equal("#ffd700", branding["primary_color"]!.GetValue<string>());

        using var browser = app.Anonymous();
        var response = await browser.GetAsync($"/t/{slug}/login");
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains("<p class=\"tenant\">Acme &lt;Sign-in&gt; &amp; Co</p>", html, StringComparison.Ordinal);
        Assert.Matches("<title>Sign in [^<]* Acme &lt;Sign-in&gt; &amp; Co</title>", html);
        Assert.Matches(
            "<img class=\"logo\" src=\"https://cdn.acme.example:8443/brand/logo.svg\\?v=2&amp;x=1\" alt=\"Acme &lt;Sign-in&gt; &amp; Co\" ?/?>", html);

        // A light colour: black text on it (its contrast with white is under 2:1).
        Assert.Contains("button:not(.secondary) { background: #ffd700; color: #000000; }", html, StringComparison.Ordinal);
        var csp = Csp(response);
        Assert.Equal(["https://cdn.acme.example:8443"], Regex.Matches(csp, "img-src ([^;]*)").Select(m => m.Groups[1].Value));
        Assert.Equal(HostedPagesTests.LoginContentSecurityPolicy, csp.Replace("img-src https://cdn.acme.example:8443; ", string.Empty, StringComparison.Ordinal));

        // Another page of the same tenant (an error page) is branded too.
        var reset = await browser.GetAsync($"/t/{slug}/reset-password?token=nope");
        Assert.Contains("Acme &lt;Sign-in&gt; &amp; Co", await reset.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("default-src 'none'; img-src https://cdn.acme.example:8443; style-src 'unsafe-inline'; form-action 'self'", Csp(reset));

        // Control: another tenant's login page is not branded and its CSP is unchanged.
        var other = await browser.GetAsync($"/t/{otherSlug}/login");
        var otherHtml = await other.Content.ReadAsStringAsync();
        Assert.Equal(HostedPagesTests.LoginContentSecurityPolicy, Csp(other));
        Assert.DoesNotContain("Acme", otherHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", otherHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("#ffd700", otherHtml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dark_colour_gets_white_text_and_null_clears_each_field()
    {
        var (tenantId, slug) = await TenantAsync();
        await PatchBrandingAsync(tenantId, new { display_name = "Night Bank", logo_url = "https://night.example/logo.png", primary_color = "#1a1a40" });
        using var browser = app.Anonymous();
        var html = await (await browser.GetAsync($"/t/{slug}/login")).Content.ReadAsStringAsync();
        Assert.Contains("button:not(.secondary) { background: #1a1a40; color: #ffffff; }", html, StringComparison.Ordinal);

        // Absent fields keep their value; null clears one.
        var cleared = await PatchBrandingAsync(tenantId, new { logo_url = (string?)null, primary_color = (string?)null });
        var branding = cleared["data"]!["settings"]!["branding"]!;
        Assert.Equal("Night Bank", branding["display_name"]!.GetValue<string>());
        Assert.Null(branding["logo_url"]);
        Assert.Null(branding["primary_color"]);

        var response = await browser.GetAsync($"/t/{slug}/login");
        html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<p class=\"tenant\">Night Bank</p>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("#1a1a40", html, StringComparison.Ordinal);
        Assert.Equal(HostedPagesTests.LoginContentSecurityPolicy, Csp(response));

        await PatchBrandingAsync(tenantId, new { display_name = (string?)null });
        using var platform = await app.AdminAsync();
        var name = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["name"]!.GetValue<string>();
        html = await (await browser.GetAsync($"/t/{slug}/login")).Content.ReadAsStringAsync();
        Assert.Contains($"<p class=\"tenant\">{WebUtility.HtmlEncode(name)}</p>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("logo_url", "http://cdn.example/logo.png")]
    [InlineData("logo_url", "javascript:alert(1)")]
    [InlineData("logo_url", "https://user:secret@cdn.example/logo.png")]
    [InlineData("logo_url", "https://cdn.example/logo.png#top")]
    [InlineData("logo_url", "/logo.png")]
    [InlineData("primary_color", "red")]
    [InlineData("primary_color", "#12345")]
    [InlineData("primary_color", "#12345g")]
    [InlineData("display_name", "   ")]
    public async Task A_bad_branding_value_is_a_422_naming_its_field_and_nothing_is_saved(string field, string value)
    {
        var (tenantId, _) = await TenantAsync();
        var body = await PatchBrandingAsync(tenantId, new Dictionary<string, string> { [field] = value }, 422);
        var locs = body["detail"]!.AsArray().Select(d => string.Join(".", d!["loc"]!.AsArray().Select(p => p!.ToString()))).ToList();
        Assert.True(locs.SequenceEqual([$"body.settings.branding.{field}"]), body.ToJsonString());

        // Control: a valid value of the same field is saved.
        var valid = field switch { "logo_url" => "https://cdn.example/logo.png", "primary_color" => "#123456", _ => "Acme" };
        var saved = await PatchBrandingAsync(tenantId, new Dictionary<string, string> { [field] = valid });
        Assert.Equal(valid, saved["data"]!["settings"]!["branding"]![field]!.GetValue<string>());
    }

    [Fact]
    public async Task Branding_is_in_the_tenant_schema_of_the_openapi_document()
    {
        using var anonymous = app.Anonymous();
        var document = await (await anonymous.GetAsync("/openapi.json")).ReadJsonAsync(200);
        var schemas = document["components"]!["schemas"]!.AsObject();
        var settings = schemas.First(s => s.Key.Contains("TenantSettings", StringComparison.Ordinal)).Value!;
        Assert.True(settings["properties"]!.AsObject().ContainsKey("branding"), settings.ToJsonString());
        var branding = schemas.First(s => s.Key.Contains("BrandingSettings", StringComparison.Ordinal)).Value!;
        Assert.Equal(["display_name", "logo_url", "primary_color"], branding["properties"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task The_console_settings_form_edits_the_branding_and_shows_the_apis_422_at_the_field()
    {
        using var platform = await app.AdminAsync();
        var partnerId = (await (await platform.PostAsJsonAsync("/api/v1/admin/partners", new { name = $"Partner {Guid.NewGuid():N}" })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var (homeId, homeSlug) = await TenantAsync(partnerId);
        var email = $"partner-admin-{Guid.NewGuid():N}@example.com";
        var adminId = await app.CreateUserIdAsync(homeId, email, Password);
        await (await platform.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = adminId, role = "PARTNER_ADMIN", partner_id = partnerId })).ShouldBeAsync(201);
        var (tenantId, slug) = await TenantAsync(partnerId);
        await PatchBrandingAsync(tenantId, new { display_name = "Before" });

        await using var console = new ConsoleInProcess(app);
        using var browser = await console.SignInAsync(homeSlug, email, Password);
        var path = $"/console/tenants/{tenantId}/settings";
        var page = await ConsoleInProcess.PageAsync(await browser.GetAsync(path), 200);
        Assert.Matches("<input id=\"branding.display_name\" name=\"branding.display_name\" type=\"text\" value=\"Before\"", page);
        var token = ConsoleInProcess.FormToken(page);
        var version = WebUtility.HtmlDecode(Regex.Match(page, "name=\"version\" value=\"([^\"]*)\"").Groups[1].Value);

        (string, string)[] Fields(string name, string logo, string color) =>
        [
            ("form_token", token), ("version", version), ("password_policy.min_length", "12"), ("password_policy.max_length", "256"),
            ("password_policy.block_common_passwords", "true"), ("password_policy.disallow_email_local_part", "true"),
            ("lockout_policy.max_failed_attempts", "5"), ("lockout_policy.lockout_duration_minutes", "15"), ("allowed_redirect_uris", string.Empty),
            ("branding.display_name", name), ("branding.logo_url", logo), ("branding.primary_color", color),
        ];

        var invalid = await browser.PostAsync(path, ConsoleInProcess.Form(Fields("Acme", "http://cdn.example/logo.png", "red")));
        var html = await ConsoleInProcess.PageAsync(invalid, 422);
        Assert.Matches("id=\"branding.logo_url-error\">[^<]*https", html);
        Assert.Matches("id=\"branding.primary_color-error\">[^<]*#rrggbb", html);
        Assert.DoesNotContain("id=\"branding.display_name-error\"", html, StringComparison.Ordinal);

        // Control: valid values are saved, and an emptied field clears its setting.
        var saved = await browser.PostAsync(path, ConsoleInProcess.Form(Fields("Acme", "https://cdn.example/logo.png", "#0055aa")));
        await ConsoleInProcess.PageAsync(saved, 302);
        var branding = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["settings"]!["branding"]!;
        Assert.Equal("Acme", branding["display_name"]!.GetValue<string>());
        Assert.Equal("https://cdn.example/logo.png", branding["logo_url"]!.GetValue<string>());
        Assert.Equal("#0055aa", branding["primary_color"]!.GetValue<string>());
        page = await ConsoleInProcess.PageAsync(await browser.GetAsync(path), 200);
        Assert.Contains("value=\"https://cdn.example/logo.png\"", page, StringComparison.Ordinal);

        token = ConsoleInProcess.FormToken(page);
        version = WebUtility.HtmlDecode(Regex.Match(page, "name=\"version\" value=\"([^\"]*)\"").Groups[1].Value);
        await ConsoleInProcess.PageAsync(await browser.PostAsync(path, ConsoleInProcess.Form(Fields("Acme", string.Empty, string.Empty))), 302);
        branding = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["settings"]!["branding"]!;
        Assert.Null(branding["logo_url"]);
        Assert.Null(branding["primary_color"]);
        var login = await (await app.Anonymous().GetAsync($"/t/{slug}/login")).Content.ReadAsStringAsync();
        Assert.Contains("<p class=\"tenant\">Acme</p>", login, StringComparison.Ordinal);
    }

    [PeerFact("chromium", "peers")]
    public async Task Branded_login_pages_in_a_light_and_a_dark_colour_pass_axe()
    {
        var (light, lightSlug) = await TenantAsync();
        var (dark, darkSlug) = await TenantAsync();
        await PatchBrandingAsync(light, new { display_name = "Sunny Co", logo_url = "https://logo.invalid/sun.svg", primary_color = "#ffe066" });
        await PatchBrandingAsync(dark, new { display_name = "Midnight Co", logo_url = "https://logo.invalid/moon.svg", primary_color = "#101030" });

        await using var console = await ConsoleBrowser.StartAsync(app);
        foreach (var (slug, name) in new[] { (lightSlug, "Sunny Co"), (darkSlug, "Midnight Co") })
        {
            await console.Page.GotoAsync($"{console.BaseUrl}/t/{slug}/login");
            await Microsoft.Playwright.Assertions.Expect(console.Page.GetByRole(Microsoft.Playwright.AriaRole.Img, new() { Name = name })).ToHaveCountAsync(1);
            await console.AxeAsync();
        }

        Assert.Equal(2, console.Checked.Count);
        console.AssertAccessible();
    }
}
