using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// RP-Initiated Logout 1.0, section 2: /connect/logout without a valid id_token_hint naming the browser's session asks
/// the user to confirm, with a CSRF-protected form, so a bare link or a cross-site request cannot sign anyone out.
/// </summary>
public sealed class LogoutConfirmationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private async Task<(OidcTestClient Client, string UserId, HttpClient Browser, JsonNode Tokens)> SignedInAsync()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var userId = await client.CreateUserAsync(app, $"u{Guid.NewGuid():N}@example.com");
        var email = await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Email).SingleAsync());
        var browser = client.Browser(app);
        var tokens = await client.SignInAsync(app, email, browser: browser);
        return (client, userId, browser, tokens);
    }

    private Task<DateTime?> SessionRevokedAtAsync(string userId) =>
        app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).Select(s => s.RevokedAt).SingleAsync());

    [Fact]
    public async Task A_bare_logout_link_asks_first_and_ends_nothing()
    {
        var (client, userId, browser, tokens) = await SignedInAsync();
        using var _ = browser;

        var page = await browser.GetAsync("/connect/logout");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Sign out?", html, StringComparison.Ordinal);
        Assert.Contains(client.TenantName, html, StringComparison.Ordinal);
        Assert.Contains("<form method=\"post\" action=\"/connect/logout\">", html, StringComparison.Ordinal);
        Assert.Equal(HostedPagesTests.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());

        // A forged POST (what a cross-site form could send: no valid form token) ends nothing either.
        var forged = await browser.PostAsync("/connect/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["confirm"] = "yes", ["form_token"] = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("This form has expired", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Null(await SessionRevokedAtAsync(userId));
        var refreshed = await (await client.RefreshAsync(app, tokens["refresh_token"]!.GetValue<string>())).ReadJsonAsync(200);
        Assert.False(string.IsNullOrEmpty(refreshed["access_token"]?.GetValue<string>()));
        Assert.Contains("code=", (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=none"))).Headers.Location!.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirming_on_the_page_signs_out_and_returns_to_the_application()
    {
        var (client, userId, browser, tokens) = await SignedInAsync();
        using var _ = browser;

        var page = await browser.GetAsync("/connect/logout?" + string.Join('&',
            $"client_id={client.ClientId}", $"post_logout_redirect_uri={Uri.EscapeDataString(client.RedirectUri)}", "state=bye"));
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Dashboard asks to sign you out of " + client.TenantName, html, StringComparison.Ordinal);
        Assert.Equal(client.RedirectUri, Forms.Hidden(html, "post_logout_redirect_uri"));

        // The form posts here and the answer redirects to the application: its origin is allowed as a form target.
        Assert.Equal(HostedPagesTests.ContentSecurityPolicy + " http://127.0.0.1:5173", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Null(await SessionRevokedAtAsync(userId));

        var confirmed = await browser.PostAsync("/connect/logout", Forms.From(html));
        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal(client.RedirectUri, confirmed.Headers.Location!.GetLeftPart(UriPartial.Path));
        Assert.Equal("bye", QueryHelpers.ParseQuery(confirmed.Headers.Location.Query)["state"].ToString());

        Assert.NotNull(await SessionRevokedAtAsync(userId));
        Assert.Equal("invalid_grant", (await (await client.RefreshAsync(app, tokens["refresh_token"]!.GetValue<string>())).ReadJsonAsync(400))["error"]!.GetValue<string>());
        Assert.StartsWith($"/t/{client.Slug}/login?", (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_id_token_hint_for_the_session_signs_out_without_asking_and_one_for_another_session_asks()
    {
        var (client, userId, browser, tokens) = await SignedInAsync();
        using var _ = browser;

        // A hint from an earlier session of the same user (another browser) does not speak for this browser's session.
        var email = await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Email).SingleAsync());
        var elsewhere = await client.SignInAsync(app, email);
        var asked = await browser.GetAsync("/connect/logout?id_token_hint=" + Uri.EscapeDataString(elsewhere["id_token"]!.GetValue<string>()));
        Assert.Contains("Sign out?", await asked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.RevokedAt == null)));

        var signedOut = await browser.GetAsync("/connect/logout?" + string.Join('&',
            "id_token_hint=" + Uri.EscapeDataString(tokens["id_token"]!.GetValue<string>()),
            $"post_logout_redirect_uri={Uri.EscapeDataString(client.RedirectUri)}"));
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal(client.RedirectUri, signedOut.Headers.Location!.GetLeftPart(UriPartial.Path));
        Assert.Equal(1, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId && s.RevokedAt == null)));
        Assert.Equal("invalid_grant", (await (await client.RefreshAsync(app, tokens["refresh_token"]!.GetValue<string>())).ReadJsonAsync(400))["error"]!.GetValue<string>());
    }
}
