using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.AdminConsole;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>The console's own rules over HTTP: sign-in gate, form tokens on every POST, strict CSP, the PKCE start.</summary>
public sealed class ConsoleHttpTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Policy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private HttpClient Browser() => app.Host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    [Fact]
    public async Task A_console_page_without_a_console_session_redirects_to_sign_in_and_comes_back()
    {
        using var browser = Browser();
        var response = await browser.GetAsync("/console/tenants/some-tenant/users?search=a");
        await response.ShouldBeAsync(302);
        Assert.Equal("/console/sign-in?return_url=" + Uri.EscapeDataString("/console/tenants/some-tenant/users?search=a"), response.Headers.Location!.OriginalString);

        // A bearer token is not a console session: the console never takes one.
        using var admin = await app.AdminAsync();
        await (await admin.GetAsync("/console/tenants/some-tenant/users")).ShouldBeAsync(302);

        // Control: the sign-in page itself answers, with the return address kept for after sign-in.
        var page = await browser.GetAsync(response.Headers.Location!.OriginalString);
        await page.ShouldBeAsync(200);
        Assert.Contains("value=\"/console/tenants/some-tenant/users?search=a\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Console_pages_carry_the_strict_csp_and_the_stylesheet_is_same_origin()
    {
        using var browser = Browser();
        var page = await browser.GetAsync("/console/sign-in");
        await page.ShouldBeAsync(200);
        Assert.Equal(Policy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-store", page.Headers.CacheControl!.ToString());
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Matches("<link rel=\"stylesheet\" href=\"/console/console.css\"", html);

        var css = await browser.GetAsync("/console/console.css");
        await css.ShouldBeAsync(200);
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);

        // The redirect to sign-in carries it too.
        Assert.Equal(Policy, (await browser.GetAsync("/console")).Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task A_console_post_without_the_browsers_form_token_is_refused_before_anything_else()
    {
        using var browser = Browser();
        var path = "/console/tenants/some-tenant/users/some-user/lock";
        var refused = await browser.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["reason"] = "x" }));
        await refused.ShouldBeAsync(400);
        await (await browser.PostAsync("/console/sign-out", new FormUrlEncodedContent([]))).ShouldBeAsync(400);

        // A console token for another browser's secret is refused as well (the controls, with real console sessions,
        // are in ConsoleTenancyHttpTests).
        var forms = app.Host.Services.GetRequiredService<ConsoleFormTokens>();
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"{ConsoleFormTokens.CookieName}={new string('b', 43)}";
        var other = forms.Issue(context, ConsoleSession.FormBinding("someone", "some-session"));
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { [ConsoleFormTokens.FieldName] = other }),
        };
        request.Headers.Add("Cookie", $"{ConsoleFormTokens.CookieName}={new string('a', 43)}");
        await (await app.Host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).SendAsync(request)).ShouldBeAsync(400);
    }

    [Fact]
    public async Task Sign_in_starts_the_code_flow_with_pkce_for_the_console_client_and_a_forged_callback_is_refused()
    {
        using var browser = Browser();
        var start = await browser.GetAsync("/console/sign-in/start?tenant=acme&return_url=%2Fconsole%2Ftenants");
        await start.ShouldBeAsync(302);
        var location = start.Headers.Location!.OriginalString;
        Assert.StartsWith("/connect/authorize?", location, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(location[location.IndexOf('?', StringComparison.Ordinal)..]);
        Assert.Equal("scaikey-console", query["client_id"].ToString());
        Assert.Equal("code", query["response_type"].ToString());
        Assert.Equal("S256", query["code_challenge_method"].ToString());
        Assert.Equal(43, query["code_challenge"].ToString().Length);
        Assert.Contains("scaikey.admin", query["scope"].ToString().Split(' '));
        Assert.Equal("acme", query["tenant"].ToString());
        Assert.Equal("http://localhost/console/callback", query["redirect_uri"].ToString());
        var flowCookie = start.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("scaikey_console_flow=", StringComparison.Ordinal));
        Assert.Contains("httponly", flowCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", flowCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/console/callback", flowCookie, StringComparison.OrdinalIgnoreCase);

        // Another state than the one this browser started with: no token exchange, no session.
        var forged = await browser.GetAsync("/console/callback?code=stolen&state=someone-elses");
        await forged.ShouldBeAsync(400);
        Assert.DoesNotContain(forged.Headers.TryGetValues("Set-Cookie", out var set) ? set : [], c => c.StartsWith("scaikey_console=", StringComparison.Ordinal));

        // An outside return address is not followed after sign-in.
        var outside = await browser.GetAsync("/console/sign-in?return_url=https%3A%2F%2Fevil.example%2F");
        Assert.DoesNotContain("evil.example", await outside.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_token_of_a_tenant_application_cannot_read_my_permissions_but_a_console_token_can()
    {
        var tenantId = await app.CreateTenantAsync();
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var (_, viewer) = await Infrastructure.ConsoleSignIn.AdminUserAsync(app, tenantId, slug, ("TENANT_VIEWER", null, tenantId));
        var data = (await (await viewer.GetAsync($"/api/v1/tenants/{tenantId}/my-permissions")).ReadJsonAsync(200))["data"]!;
        Assert.Equal(tenantId, data["tenant_id"]!.GetValue<string>());
        Assert.Equal(["users.read", "directory.read"], data["permissions"]!.AsArray().Select(p => p!.GetValue<string>()));

        // Another tenant: the viewer has no role there.
        var other = await app.CreateTenantAsync();
        await (await viewer.GetAsync($"/api/v1/tenants/{other}/my-permissions")).ReadProblemAsync(403);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync($"/api/v1/tenants/{tenantId}/my-permissions")).StatusCode);
    }
}
