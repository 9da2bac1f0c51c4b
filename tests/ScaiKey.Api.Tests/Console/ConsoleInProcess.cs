using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.AdminConsole;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// A second in-memory instance of the service on the fixture's database whose console reaches the API through the
/// test server itself (the in-memory server has no address of its own), so HTTP-level tests get real console
/// sessions without a browser: sign-in through the hosted login page, the code exchange and the console's API calls.
/// </summary>
internal sealed class ConsoleInProcess : IAsyncDisposable
{
    private const string Origin = "http://localhost";

    private readonly ScaiKeyHost _host;

    /// <param name="configure">More settings for the instance, applied after these (a test may send the console's API
    /// calls elsewhere).</param>
    public ConsoleInProcess(ScaiKeyApp app, Action<IWebHostBuilder>? configure = null)
    {
        _host = new ScaiKeyHost(app.Database, b =>
        {
            b.UseSetting("ScaiKey:Issuer", Origin + "/");
            b.ConfigureTestServices(services => services.AddHttpClient<ConsoleApi>()
                .ConfigurePrimaryHttpMessageHandler(sp => ((TestServer)sp.GetRequiredService<IServer>()).CreateHandler()));
            configure?.Invoke(b);
        });
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>A browser (cookies, no automatic redirects) without any session.</summary>
    public HttpClient Browser() => _host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>A browser signed in to the console as the user, through /console/sign-in/start and the hosted login page.</summary>
    public async Task<HttpClient> SignInAsync(string tenantSlug, string email, string password) =>
        await SignInAsync(Browser(), tenantSlug, email, password);

    /// <summary>The same in a browser that may already hold cookies (another console session is replaced).</summary>
    public async Task<HttpClient> SignInAsync(HttpClient browser, string tenantSlug, string email, string password)
    {
        var response = await SignInResponseAsync(browser, tenantSlug, email, password);
        if (response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther && IntoConsole(response.Headers.Location!.OriginalString))
        {
            return browser;
        }

        Assert.Fail($"no console session: {(int)response.StatusCode} {response.Headers.Location}\n{await response.Content.ReadAsStringAsync()}");
        return browser;
    }

    /// <summary>
    /// The sign-in's redirects followed (the login form posted on the way) up to the redirect into the console, or the
    /// first answer that is not a redirect (a failed sign-in's page).
    /// </summary>
    public async Task<HttpResponseMessage> SignInResponseAsync(HttpClient browser, string tenantSlug, string email, string password)
    {
        var response = await browser.GetAsync($"/console/sign-in/start?tenant={Uri.EscapeDataString(tenantSlug)}");
        for (var hops = 0; hops < 10; hops++)
        {
            if (response.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.SeeOther))
            {
                break;
            }

            var location = Local(response.Headers.Location!.OriginalString);
            if (IntoConsole(location))
            {
                return response;
            }

            response = await browser.GetAsync(location);
            if (location.StartsWith($"/t/{tenantSlug}/login", StringComparison.Ordinal) && response.StatusCode == HttpStatusCode.OK)
            {
                var html = await response.Content.ReadAsStringAsync();
                response = await browser.PostAsync($"/t/{tenantSlug}/login", Forms.From(html, ("email", email), ("password", password)));
            }
        }

        return response;
    }

    private static string Local(string location) => location.StartsWith(Origin, StringComparison.Ordinal) ? location[Origin.Length..] : location;

    private static bool IntoConsole(string location) =>
        Local(location) is var local && local.StartsWith("/console", StringComparison.Ordinal) && !local.StartsWith("/console/callback", StringComparison.Ordinal);

    /// <summary>The page's HTML, asserting its status (the body printed on a mismatch).</summary>
    public static async Task<string> PageAsync(HttpResponseMessage response, int status)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode} {response.Headers.Location}\n{html}");
        return html;
    }

    /// <summary>The form token the page's forms carry.</summary>
    public static string FormToken(string html)
    {
        var match = Regex.Match(html, "name=\"form_token\" value=\"([^\"]+)\"");
        Assert.True(match.Success, "no form token in:\n" + html);
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();
}
