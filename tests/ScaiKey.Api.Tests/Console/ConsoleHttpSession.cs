using System.Net;
using System.Text.RegularExpressions;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The console over plain HTTP, without a browser: a second instance of the service on a loopback port (the console
/// calls the API at its own address, which the in-memory server has not) and a cookie-keeping client signed in
/// through /console/sign-in/start, the hosted login page and the callback, as a browser would be.
/// </summary>
internal sealed class ConsoleHttpSession : IAsyncDisposable
{
    private readonly ScaiKeyHost _host;
    private readonly List<HttpClient> _clients = [];

    private ConsoleHttpSession(ScaiKeyHost host, string baseUrl)
    {
        _host = host;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static ConsoleHttpSession Start(ScaiKeyApp app)
    {
        var (host, baseUrl) = LoopbackHost.Start(app);
        return new ConsoleHttpSession(host, baseUrl);
    }

    /// <summary>A client with its own cookies, signed in to the console as this user of the tenant.</summary>
    public async Task<HttpClient> SignInAsync(string tenantSlug, string email, string password)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(BaseUrl) };
        _clients.Add(client);
        var response = await client.GetAsync($"/console/sign-in/start?tenant={Uri.EscapeDataString(tenantSlug)}&return_url=%2Fconsole");
        for (var hop = 0; hop < 12; hop++)
        {
            if (response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther or HttpStatusCode.Found)
            {
                var location = response.Headers.Location!;
                if (location.OriginalString == "/console")
                {
                    return client;
                }

                response = await client.GetAsync(location);
                continue;
            }

            var html = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK && response.RequestMessage!.RequestUri!.AbsolutePath == $"/t/{tenantSlug}/login",
                $"console sign-in stopped at {response.RequestMessage?.RequestUri} with {(int)response.StatusCode}:\n{html}");
            response = await client.PostAsync($"/t/{tenantSlug}/login", Forms.From(html, ("email", email), ("password", password)));
        }

        Assert.Fail("console sign-in did not come back to /console");
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _host.DisposeAsync();
    }
}

/// <summary>Reading and posting console pages in tests.</summary>
internal static class ConsolePage
{
    public static async Task<string> HtmlAsync(this HttpClient client, string path, int expectedStatus = 200)
    {
        var response = await client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus, $"GET {path}: expected {expectedStatus}, got {(int)response.StatusCode}\n{html}");
        return html;
    }

    /// <summary>Posts a console form with the form token of <paramref name="page"/> (any console page of this browser).</summary>
    public static async Task<(int Status, string Html, string? Location)> PostFormAsync(this HttpClient client, string page, string action, params (string Name, string Value)[] fields)
    {
        var match = Regex.Match(page, "name=\"form_token\" value=\"([^\"]+)\"");
        Assert.True(match.Success, "no form token in:\n" + page);
        var token = match.Groups[1].Value;
        var values = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Prepend(new("form_token", token));
        var response = await client.PostAsync(action, new FormUrlEncodedContent(values));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location?.OriginalString);
    }

    /// <summary>The text of the element with this id (no nested elements), decoded.</summary>
    public static string ById(string html, string id)
    {
        var match = Regex.Match(html, $"id=\"{Regex.Escape(id)}\"[^>]*>([^<]*)<");
        Assert.True(match.Success, $"no element #{id} in:\n{html}");
        return WebUtility.HtmlDecode(match.Groups[1].Value).Trim();
    }
}
