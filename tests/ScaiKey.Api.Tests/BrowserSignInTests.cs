using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Signs in through the hosted login and consent pages in a real headless Chromium (Debian's, driven by Playwright):
/// the pages' labels, forms, CSP and cookies as a browser really treats them, then the code exchanged like a client would.
/// </summary>
public sealed class BrowserSignInTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    public const string ChromiumPath = "/usr/bin/chromium";

    [ChromiumFact]
    public async Task A_user_signs_in_through_the_hosted_page_in_chromium_and_the_code_is_redeemed()
    {
        // The client's redirect URI: a loopback listener that answers "signed in" and remembers what it was sent.
        using var callback = new LoopbackCallback();
        var client = await OidcTestClient.CreateAsync(app, redirectUri: callback.RedirectUri, consentRequired: true);
        var userId = await client.CreateUserAsync(app, "browser@example.com", first: "Brow", last: "Ser");

        // A second instance on the same database, on a real port: a browser cannot reach the in-memory test server.
        await using var host = new ScaiKeyHost(app.Database, configure: null);
        host.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        host.StartServer();
        var baseUrl = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
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

        var pkce = Pkce.Create();
        var response = await page.GotoAsync(baseUrl + client.AuthorizeUrl(pkce, nonce: "browser-nonce"));
        Assert.Equal(200, response!.Status);
        Assert.StartsWith($"{baseUrl}/t/{client.Slug}/login?return_url=", page.Url, StringComparison.Ordinal);
        Assert.Contains(client.TenantName, await page.TitleAsync(), StringComparison.Ordinal);

        // A wrong password first: the error is announced in the alert region and the email stays filled in.
        await page.GetByLabel("Email").FillAsync("browser@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("Not-The-Password-1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Invalid email or password.");
        await Assertions.Expect(page.GetByLabel("Email")).ToHaveValueAsync("browser@example.com");

        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(OidcTestClient.Password);

        // The application asks for consent: signed in, the browser lands on the consent page, which lists the scopes.
        var consent = page.WaitForURLAsync(url => url.StartsWith($"{baseUrl}/t/{client.Slug}/consent?", StringComparison.Ordinal),
            new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await consent;
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Allow Dashboard?" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "See your email address" })).ToBeVisibleAsync();

        // Commit: the redirect to the client was followed; the client's page need not finish loading. The wait starts
        // before the click: started after a fast redirect chain, it found the URL already there and waited for a
        // commit that had passed.
        var reached = page.WaitForURLAsync(url => url.StartsWith(callback.RedirectUri, StringComparison.Ordinal),
            new() { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        try
        {
            await reached;
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the browser did not reach the client; it is at {page.Url}\nconsole: {string.Join("\n", consoleErrors)}\n{await page.ContentAsync()}");
        }

        Assert.Contains("signed in", await page.InnerTextAsync("body"), StringComparison.Ordinal);

        var query = QueryHelpers.ParseQuery(new Uri(page.Url).Query);
        Assert.Equal("state-1", query["state"].ToString());
        var code = query["code"].ToString();
        Assert.False(string.IsNullOrEmpty(code));
        Assert.Equal(code, QueryHelpers.ParseQuery(new Uri(callback.ReceivedUrls.Single()).Query)["code"].ToString());

        // The sign-in cookie is HttpOnly and Lax; the form's CSRF cookie Strict.
        var cookies = await page.Context.CookiesAsync(new[] { baseUrl });
        var signIn = Assert.Single(cookies, c => c.Name == "scaikey_signin");
        Assert.True(signIn.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, signIn.SameSite);

        // The client exchanges the code on the same instance, and the ID token is the user's.
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var redeem = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = client.RedirectUri,
            ["client_id"] = client.ClientId, ["code_verifier"] = pkce.Verifier,
        }));
        var tokens = await redeem.ReadJsonAsync(200);
        var id = Jwt.Payload(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(userId, id["sub"]!.GetValue<string>());
        Assert.Equal("browser-nonce", id["nonce"]!.GetValue<string>());
        Assert.Equal("Brow Ser", id["name"]!.GetValue<string>());

        // Nothing the pages did was refused by the browser (a CSP violation is reported on the console).
        Assert.Empty(consoleErrors);
    }

    /// <summary>Runs the test only where Debian's chromium is installed (CI installs it with apt).</summary>
    internal sealed class ChromiumFactAttribute : FactAttribute
    {
        public ChromiumFactAttribute()
        {
            if (!File.Exists(ChromiumPath))
            {
                Skip = $"{ChromiumPath} is missing; install it with `apt-get install -y chromium` (.ci/run does).";
            }
        }
    }

    /// <summary>
    /// The smallest HTTP server a redirect needs: accepts loopback connections, records each request line's URL,
    /// and answers "signed in". It serves until disposed.
    /// </summary>
    internal sealed class LoopbackCallback : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _received = [];

        public LoopbackCallback()
        {
            _listener.Start();
            RedirectUri = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/callback";
            _ = Task.Run(ServeAsync);
        }

        public string RedirectUri { get; }

        public IReadOnlyList<string> ReceivedUrls
        {
            get
            {
                lock (_received)
                {
                    return [.. _received];
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }

        private async Task ServeAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    // One task per connection: a browser may open a connection ahead of time and send nothing on it.
                    var connection = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _ = Task.Run(() => AnswerAsync(connection));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Stopped.
            }
        }

        private async Task AnswerAsync(TcpClient connection)
        {
            try
            {
                using (connection)
                {
                    var stream = connection.GetStream();
                    using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                    var requestLine = await reader.ReadLineAsync(_stop.Token) ?? string.Empty;
                    while (!string.IsNullOrEmpty(await reader.ReadLineAsync(_stop.Token)))
                    {
                        // Headers are not needed.
                    }

                    var parts = requestLine.Split(' ');
                    if (parts.Length == 3 && parts[1].StartsWith("/callback", StringComparison.Ordinal))
                    {
                        lock (_received)
                        {
                            _received.Add("http://127.0.0.1" + parts[1]);
                        }
                    }

                    const string body = "<!DOCTYPE html><html lang=\"en\"><title>Client</title><body>signed in</body></html>";
                    var response = $"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(response), _stop.Token);

                    // A graceful close (FIN), so the browser reads the whole response before the socket goes.
                    connection.Client.Shutdown(SocketShutdown.Send);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
            {
                // The browser went away, or the listener stopped.
            }
        }
    }
}
