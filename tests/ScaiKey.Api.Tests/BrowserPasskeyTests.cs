using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Passkeys in a real headless Chromium with a virtual authenticator (Chrome DevTools Protocol WebAuthn domain): the
/// page's script, the CSP that lets only it run, and the browser's own WebAuthn checks of origin and RP id.
/// </summary>
public sealed class BrowserPasskeyTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [BrowserSignInTests.ChromiumFact]
    public async Task A_user_registers_a_passkey_then_signs_in_to_an_application_with_it_alone_in_chromium()
    {
        using var callback = new BrowserSignInTests.LoopbackCallback();
        var client = await OidcTestClient.CreateAsync(app, redirectUri: callback.RedirectUri);
        var userId = await client.CreateUserAsync(app, "passkey@example.com");

        // A second instance on the same database, on a real port. The browser uses "localhost": WebAuthn wants a
        // domain as the relying party id (an IP address is refused), and http://localhost is a secure context.
        await using var host = new ScaiKeyHost(app.Database, configure: null);
        host.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        host.StartServer();
        var port = new Uri(host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        var baseUrl = $"http://localhost:{port}";

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
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        // A platform authenticator with user verification (like a laptop's fingerprint reader), attached to this page.
        var cdp = await page.Context.NewCDPSessionAsync(page);
        await cdp.SendAsync("WebAuthn.enable");
        await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2", ["transport"] = "internal", ["hasResidentKey"] = true, ["hasUserVerification"] = true,
                ["isUserVerified"] = true, ["automaticPresenceSimulation"] = true,
            },
        });

        // The passkeys page sends the anonymous browser to the login page and gets it back after the password.
        await page.GotoAsync($"{baseUrl}/t/{client.Slug}/account/passkeys");
        Assert.StartsWith($"{baseUrl}/t/{client.Slug}/login?return_url=", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("Email").FillAsync("passkey@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(OidcTestClient.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();

        // Where the browser stands is printed if it does not arrive (a CI run under load once timed out here).
        await WaitOrFailAsync(page, url => url == $"{baseUrl}/t/{client.Slug}/account/passkeys", consoleErrors);

        await page.GetByLabel("Name of the passkey").FillAsync("Virtual key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add a passkey" }).ClickAsync();
        await WaitOrFailAsync(page, url => url.EndsWith("/account/passkeys?added=1", StringComparison.Ordinal), consoleErrors);
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Your passkey was added.");
        await Assertions.Expect(page.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "Virtual key" })).ToBeVisibleAsync();
        Assert.True(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.MfaEnabled).SingleAsync()));

        // Signed out (the same page keeps its authenticator), the application asks for a sign-in: the passkey alone.
        await page.Context.ClearCookiesAsync();
        var pkce = Pkce.Create();
        await page.GotoAsync(baseUrl + client.AuthorizeUrl(pkce, nonce: "passkey-nonce"));
        Assert.StartsWith($"{baseUrl}/t/{client.Slug}/login?return_url=", page.Url, StringComparison.Ordinal);
        var reached = page.WaitForURLAsync(url => url.StartsWith(callback.RedirectUri, StringComparison.Ordinal),
            new() { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with a passkey" }).ClickAsync();
        try
        {
            await reached;
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the browser did not reach the client; it is at {page.Url}\nconsole: {string.Join("\n", consoleErrors)}\n{await page.ContentAsync()}");
        }

        var code = QueryHelpers.ParseQuery(new Uri(page.Url).Query)["code"].ToString();
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var redeem = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = client.RedirectUri,
            ["client_id"] = client.ClientId, ["code_verifier"] = pkce.Verifier,
        }));
        var id = Jwt.Payload((await redeem.ReadJsonAsync(200))["id_token"]!.GetValue<string>());
        Assert.Equal(userId, id["sub"]!.GetValue<string>());
        Assert.Equal("passkey-nonce", id["nonce"]!.GetValue<string>());

        // The session says how: a hardware-held key with user verification, two factors.
        var sessions = await app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).Select(s => s.Amr).ToListAsync());
        Assert.Equal(2, sessions.Count);
        Assert.Contains("hwk mfa", sessions);
        Assert.True(await app.DbAsync(db => db.MfaFactors.Where(f => f.UserId == userId).Select(f => f.LastUsedAt).SingleAsync()) is not null);

        // Nothing the pages or the script did was refused by the browser (a CSP violation is reported on the console).
        Assert.Empty(consoleErrors);
    }

    private static async Task WaitOrFailAsync(IPage page, Func<string, bool> url, List<string> consoleErrors)
    {
        try
        {
            await page.WaitForURLAsync(url, new() { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the browser is at {page.Url}\nconsole: {string.Join("\n", consoleErrors)}\n{await page.ContentAsync()}");
        }
    }
}
