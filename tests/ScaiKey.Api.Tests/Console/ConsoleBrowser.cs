using System.Text.Json;
using Microsoft.Playwright;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The admin console in Debian's chromium: a second instance of the service on a real loopback port (the browser
/// cannot reach the in-memory server) whose issuer is that address, so the console's callback is registered as it is
/// in production; a page whose every visit is checked by axe-core (tests/peers/node_modules).
/// </summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    private static readonly string AxeScript = Path.Combine(PeerProcess.PeersFolder, "node_modules", "axe-core", "axe.min.js");

    private readonly ScaiKeyHost _host;
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly List<string> _violations = [];
    private readonly HashSet<string> _seen = [];

    private ConsoleBrowser(ScaiKeyHost host, string baseUrl, IPlaywright playwright, IBrowser browser, IPage page)
    {
        _host = host;
        BaseUrl = baseUrl;
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    public string BaseUrl { get; }

    public IPage Page { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Every page axe was run on, with its serious or critical violations (none expected).</summary>
    public List<string> Checked { get; } = [];

    public static async Task<ConsoleBrowser> StartAsync(ScaiKeyApp app)
    {
        var (host, baseUrl) = LoopbackHost.Start(app);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserSignInTests.ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });

        // BypassCSP only so the test can inject axe; the console's CSP itself is checked by ConsoleHttpTests.
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(30_000);
        return new ConsoleBrowser(host, baseUrl, playwright, browser, await context.NewPageAsync());
    }

    /// <summary>Signs in from /console through the hosted login page of the tenant, and waits for the console.</summary>
    public async Task SignInAsync(string tenantSlug, string email, string password)
    {
        await Page.GotoAsync(BaseUrl + "/console");
        Assert.StartsWith(BaseUrl + "/console/sign-in", Page.Url, StringComparison.Ordinal);
        await AxeAsync();
        await Page.GetByLabel("Tenant slug (optional)").FillAsync(tenantSlug);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Continue to sign-in" }).ClickAsync();
        await ReachAsync(url => url.Contains($"/t/{tenantSlug}/login", StringComparison.Ordinal), "the tenant's login page");
        await Page.GetByLabel("Email").FillAsync(email);
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        var back = ReachAsync(url => url.StartsWith(BaseUrl + "/console/tenants", StringComparison.Ordinal), "the console");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await back;
    }

    // Waits for the browser to arrive; when it does not, the failure says where it is and what it shows.
    private async Task ReachAsync(Func<string, bool> url, string what)
    {
        try
        {
            await Page.WaitForURLAsync(url);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{what} was not reached; the browser is at {Page.Url}\n{await Page.InnerTextAsync("body")}");
        }
    }

    /// <summary>
    /// Runs axe-core on the current page, once per distinct page of the walk (its path and title): the same page
    /// again after an action that only adds a status line is not checked again. Serious and critical violations are
    /// collected and fail the test.
    /// </summary>
    public async Task AxeAsync()
    {
        if (!_seen.Add(new Uri(Page.Url).AbsolutePath + "\n" + await Page.TitleAsync()))
        {
            return;
        }

        await Page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = AxeScript });
        var found = await Page.EvaluateAsync<JsonElement>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ['violations'] });
              return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(' | '));
            }
            """);
        var path = new Uri(Page.Url).AbsolutePath;
        Checked.Add(path);
        foreach (var violation in found.EnumerateArray())
        {
            _violations.Add($"{path}: {violation.GetString()}");
        }
    }

    public void AssertAccessible() => Assert.True(_violations.Count == 0, "axe found:\n" + string.Join("\n", _violations));

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _host.DisposeAsync();
    }
}
