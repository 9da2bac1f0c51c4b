using System.Net;
using System.Text.RegularExpressions;
using ScaiKey.Api.Tests.Infrastructure;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// A console session over plain HTTP, without a browser: a second instance of the service on a loopback port (the
/// console calls its own API over the network, which the in-memory test server cannot answer), and a cookie-keeping
/// client signed in through the console's code flow on the tenant's hosted login page.
/// </summary>
internal sealed partial class ConsoleDirectorySession : IAsyncDisposable
{
    private readonly ScaiKeyHost _host;

    private ConsoleDirectorySession(ScaiKeyHost host, HttpClient client)
    {
        _host = host;
        Client = client;
    }

    public HttpClient Client { get; }

    public static async Task<ConsoleDirectorySession> SignInAsync(ScaiKeyApp app, string tenantSlug, string email, string password)
    {
        var (host, baseUrl) = LoopbackHost.Start(app);

        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(baseUrl) };
        var session = new ConsoleDirectorySession(host, client);
        var response = await session.FollowAsync($"/console/sign-in/start?tenant={Uri.EscapeDataString(tenantSlug)}&return_url=%2Fconsole");
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.RequestMessage!.RequestUri!.AbsolutePath == $"/t/{tenantSlug}/login", $"not at the login page: {response.RequestMessage.RequestUri}\n{html}");
        var posted = await client.PostAsync($"/t/{tenantSlug}/login", Forms.From(html, ("email", email), ("password", password)));
        await posted.ShouldBeAsync(303);
        var landed = await session.FollowAsync(posted.Headers.Location!.OriginalString);
        Assert.True(landed.RequestMessage!.RequestUri!.AbsolutePath.StartsWith("/console/tenants", StringComparison.Ordinal),
            $"the console was not reached: {landed.RequestMessage.RequestUri}\n{await landed.Content.ReadAsStringAsync()}");
        return session;
    }

    /// <summary>GETs the path and follows redirects (same origin), returning the last response.</summary>
    public async Task<HttpResponseMessage> FollowAsync(string path)
    {
        var response = await Client.GetAsync(path);
        for (var i = 0; i < 10 && (int)response.StatusCode is >= 300 and < 400; i++)
        {
            var location = response.Headers.Location!;
            response = await Client.GetAsync(location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString);
        }

        return response;
    }

    /// <summary>The page's HTML after asserting its status.</summary>
    public async Task<string> PageAsync(string path, int status = 200)
    {
        var response = await FollowAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode} for {path}\n{html}");
        return html;
    }

    /// <summary>A form POST as the console's own forms send it (with this browser's form token from any console page).</summary>
    public async Task<(int Status, string Html)> PostAsync(string path, params (string Name, string Value)[] fields)
    {
        var token = FormToken().Match(await PageAsync("/console/tenants")).Groups[1].Value;
        var values = fields.Append(("form_token", WebUtility.HtmlDecode(token))).Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2));
        var response = await Client.PostAsync(path, new FormUrlEncodedContent(values));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("name=\"form_token\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _host.DisposeAsync();
    }
}
