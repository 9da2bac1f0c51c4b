using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The upstream OpenID Connect sign-in in a real headless Chromium: the hosted login's "Sign in with …" button, the
/// provider's own page (the real oidc-provider), back through ScaiKey's callback to the application with a code.
/// </summary>
public sealed class BrowserOidcFederationTests(FederationApp app, OidcPeer peerFixture) : IClassFixture<FederationApp>, IClassFixture<OidcPeer>
{
    [PeerFact("node", "peers", "chromium")]
    public async Task A_user_signs_in_with_the_login_pages_provider_button_in_chromium()
    {
        var peer = await peerFixture.StartedAsync();
        using var callback = new BrowserSignInTests.LoopbackCallback();
        var client = await OidcTestClient.CreateAsync(app, redirectUri: callback.RedirectUri);

        // A second instance on the same database, on a real port the browser and the provider's redirects can reach.
        await using var host = new ScaiKeyHost(app.Database, b => b.UseSetting("ScaiKey:Federation:AllowHttpProviders", "true"));
        host.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        host.StartServer();
        var baseUrl = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var admin = await app.AdminAsync();
        var providerId = await app.CreateAsync($"/api/v1/tenants/{client.TenantId}/identity-providers",
            new { name = "Corp SSO", type = "OIDC", config = new { issuer = peer.Issuer, client_id = "not-registered-yet" } });
        var (clientId, secret) = await peer.RegisterClientAsync($"{baseUrl}/federation/{providerId}/oidc/callback");
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{client.TenantId}/identity-providers/{providerId}",
            new { config = new { client_id = clientId, client_secret = secret } })).ShouldBeAsync(200);
        var account = await peer.AccountAsync("chromium@corp.example", emailVerified: true, given: "Chro", family: "Mium");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserSignInTests.ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            // The provider's own pages (its missing favicon) are not ScaiKey's to answer for.
            if (message.Type == "error" && !message.Location.StartsWith(peer.Issuer, StringComparison.Ordinal))
            {
                consoleErrors.Add(message.Location + " " + message.Text);
            }
        };

        var pkce = Pkce.Create();
        await page.GotoAsync(baseUrl + client.AuthorizeUrl(pkce, nonce: "browser-nonce"));
        Assert.StartsWith($"{baseUrl}/t/{client.Slug}/login?return_url=", page.Url, StringComparison.Ordinal);

        // The button is a link in the "Other ways to sign in" navigation.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Other ways to sign in" })
            .GetByRole(AriaRole.Link, new() { Name = "Sign in with Corp SSO" }).ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(peer.Issuer + "/interaction/", StringComparison.Ordinal), new() { Timeout = 30_000 });

        var reached = page.WaitForURLAsync(url => url.StartsWith(callback.RedirectUri, StringComparison.Ordinal),
            new() { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        await page.GetByLabel("Account").FillAsync(account);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        try
        {
            await reached;
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the browser did not reach the client; it is at {page.Url}\nconsole: {string.Join("\n", consoleErrors)}\n{await page.ContentAsync()}\n{peer.Output}");
        }

        var code = QueryHelpers.ParseQuery(new Uri(page.Url).Query)["code"].ToString();
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var tokens = await (await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = client.RedirectUri,
            ["client_id"] = client.ClientId, ["code_verifier"] = pkce.Verifier,
        }))).ReadJsonAsync(200);
        var id = Jwt.Payload(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(("chromium@corp.example", "Chro Mium", "[\"fed\"]"),
            (id["email"]!.GetValue<string>(), id["name"]!.GetValue<string>(), id["amr"]!.ToJsonString()));
        Assert.Empty(consoleErrors);
    }
}
