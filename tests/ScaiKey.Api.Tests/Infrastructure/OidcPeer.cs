using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// The upstream OpenID provider of the federation tests: panva's oidc-provider (tests/peers/oidc-provider.mjs) on
/// loopback, started on first use. Clients register through its dynamic client registration; accounts and a key
/// rotation through the script's /test routes.
/// </summary>
public sealed class OidcPeer : IAsyncLifetime
{
    private readonly SemaphoreSlim _start = new(1, 1);
    private PeerProcess? _process;

    public string Issuer { get; private set; } = "";

    public async Task<OidcPeer> StartedAsync()
    {
        await _start.WaitAsync();
        try
        {
            if (_process is null)
            {
                _process = await PeerProcess.StartAsync("/usr/bin/node", ["oidc-provider.mjs"], "READY ");
                Issuer = _process.Ready;
            }

            return this;
        }
        finally
        {
            _start.Release();
        }
    }

    public string Output => _process?.Output ?? "";

    /// <summary>A confidential client registered with <paramref name="redirectUri"/>: its id and secret.</summary>
    public async Task<(string ClientId, string Secret)> RegisterClientAsync(string redirectUri)
    {
        using var http = new HttpClient();
        var response = await http.PostAsJsonAsync(Issuer + "/reg", new
        {
            redirect_uris = new[] { redirectUri }, grant_types = new[] { "authorization_code" }, response_types = new[] { "code" },
            token_endpoint_auth_method = "client_secret_basic",
        });
        var body = await response.ReadJsonAsync(201);
        return (body["client_id"]!.GetValue<string>(), body["client_secret"]!.GetValue<string>());
    }

    /// <summary>An account at the provider (its id is the subject) with the claims it asserts.</summary>
    public async Task<string> AccountAsync(string? email, bool emailVerified, string? given = null, string? family = null)
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..12];
        var claims = new JsonObject { ["email_verified"] = emailVerified, ["given_name"] = given, ["family_name"] = family };
        if (email is not null)
        {
            claims["email"] = email;
        }

        using var http = new HttpClient();
        (await http.PutAsync($"{Issuer}/test/accounts/{id}", JsonContent.Create(claims))).EnsureSuccessStatusCode();
        return id;
    }

    /// <summary>Replaces the provider's signing keys (the old ones are no longer published).</summary>
    public async Task RotateKeysAsync()
    {
        using var http = new HttpClient();
        (await http.PostAsync($"{Issuer}/test/rotate", null)).EnsureSuccessStatusCode();
    }

    public async Task<string> KeyIdsAsync()
    {
        using var http = new HttpClient();
        var jwks = JsonNode.Parse(await http.GetStringAsync(Issuer + "/jwks"))!;
        return string.Join(",", jwks["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()));
    }

    /// <summary>A browser at the provider: its own cookies, every redirect looked at.</summary>
    public HttpClient Browser() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(Issuer) };

    /// <summary>
    /// At the provider, from ScaiKey's redirect to its authorization endpoint: signs in as
    /// <paramref name="account"/> (or cancels with null) and returns where the provider sends the browser back
    /// (ScaiKey's callback with code and state, or an error).
    /// </summary>
    public async Task<Uri> SignInAsync(HttpClient browser, Uri authorize, string? account)
    {
        Assert.StartsWith(Issuer, authorize.AbsoluteUri, StringComparison.Ordinal);
        var response = await browser.GetAsync(authorize);
        var location = await FollowAsync(browser, response);
        var page = await browser.GetAsync(location);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"no sign-in page at {location}: {(int)page.StatusCode}\n{html}\n{Output}");
        var path = location.AbsolutePath + (account is null ? "/abort" : "/login");
        var posted = await browser.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["login"] = account ?? "" }));
        return await FollowAsync(browser, posted);
    }

    // Follows the provider's own redirects; returns the first address outside it (or its interaction page).
    private async Task<Uri> FollowAsync(HttpClient browser, HttpResponseMessage response)
    {
        for (var hops = 0; hops < 10; hops++)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is >= 300 and < 400, $"expected a redirect, got {(int)response.StatusCode}\n{body}\n{Output}");
            var location = new Uri(new Uri(Issuer), response.Headers.Location!);
            if (!location.AbsoluteUri.StartsWith(Issuer, StringComparison.Ordinal) || location.AbsolutePath.StartsWith("/interaction/", StringComparison.Ordinal))
            {
                return location;
            }

            response = await browser.GetAsync(location);
        }

        throw new InvalidOperationException("too many redirects at the provider");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
