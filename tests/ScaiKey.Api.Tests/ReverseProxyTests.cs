using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Behind a reverse proxy: forwarding headers (X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded) count only from
/// ScaiKey:TrustedProxies, walking the chain from the right and stopping at the first untrusted hop. The address is
/// observed where the service records it: the session's ip_address after a password-grant sign-in. TestServer has
/// no socket, so these hosts take the peer address from a test header (<see cref="TestPeer"/>).
/// </summary>
public sealed class ReverseProxyTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Client = "198.51.100.7";

    private ScaiKeyHost? _proxied;
    private ScaiKeyHost? _rfc7239;

    /// <summary>Another instance whose proxies write RFC 7239 Forwarded headers (ScaiKey:ForwardedHeaders=Forwarded).</summary>
    private ScaiKeyHost Rfc7239Proxied => _rfc7239 ??= app.StartHost(b =>
    {
        TestPeer.Use(b);
        b.UseSetting("ScaiKey:TrustedProxies", "10.0.0.0/8, 2001:db8:ffff::1");
        b.UseSetting("ScaiKey:ForwardedHeaders", "Forwarded");
    });

    /// <summary>One extra instance on the class's database, trusting 10.0.0.0/8 and one IPv6 proxy.</summary>
    private ScaiKeyHost Proxied => _proxied ??= app.StartHost(b =>
    {
        TestPeer.Use(b);
        b.UseSetting("ScaiKey:TrustedProxies", "10.0.0.0/8, 2001:db8:ffff::1");
    });

    private async Task<string?> SessionAddressAsync(ScaiKeyHost host, string peer, params (string Name, string Value)[] headers)
    {
        var portal = await PasswordGrantApp.CreateAsync(app);
        var userId = await portal.CreateUserAsync(app);
        var email = await portal.EmailOfAsync(app, userId);
        using var http = host.CreateClient();
        http.DefaultRequestHeaders.Add(TestPeer.Header, peer);
        foreach (var (name, value) in headers)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        await portal.SignInAsync(http, email);
        return await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == userId).Select(s => s.IpAddress).SingleAsync());
    }

    [Fact]
    public async Task X_forwarded_for_counts_from_a_trusted_proxy_and_not_from_anyone_else()
    {
        Assert.Equal(Client, await SessionAddressAsync(Proxied, "10.1.2.3", ("X-Forwarded-For", Client)));
        Assert.Equal(Client, await SessionAddressAsync(Proxied, "2001:db8:ffff::1", ("X-Forwarded-For", Client)));
        Assert.Equal(Client, await SessionAddressAsync(Proxied, "::ffff:10.1.2.3", ("X-Forwarded-For", Client)));

        // Loopback is not trusted unless configured (ASP.NET Core's default would trust it), nor is anyone else.
        Assert.Equal("127.0.0.1", await SessionAddressAsync(Proxied, "127.0.0.1", ("X-Forwarded-For", Client)));
        Assert.Equal("203.0.113.9", await SessionAddressAsync(Proxied, "203.0.113.9", ("X-Forwarded-For", Client)));

        // Whatever the client wrote left of the first untrusted hop is not believed.
        Assert.Equal("203.0.113.50", await SessionAddressAsync(Proxied, "10.1.2.3", ("X-Forwarded-For", $"{Client}, 203.0.113.50")));
        Assert.Equal(Client, await SessionAddressAsync(Proxied, "10.1.2.3", ("X-Forwarded-For", $"{Client}, 10.9.9.9")));
    }

    [Fact]
    public async Task Rfc7239_forwarded_counts_from_a_trusted_proxy_and_not_from_anyone_else()
    {
        Assert.Equal(Client, await SessionAddressAsync(Rfc7239Proxied, "10.1.2.3", ("Forwarded", $"for={Client};proto=https;host=id.example.com")));
        Assert.Equal("2001:db8::7", await SessionAddressAsync(Rfc7239Proxied, "10.1.2.3", ("Forwarded", "for=\"[2001:db8::7]:4711\"")));
        Assert.Equal(Client, await SessionAddressAsync(Rfc7239Proxied, "10.1.2.3", ("Forwarded", $"for={Client}, for=10.9.9.9;proto=https")));
        Assert.Equal("203.0.113.50", await SessionAddressAsync(Rfc7239Proxied, "10.1.2.3", ("Forwarded", $"for={Client}, for=203.0.113.50")));

        Assert.Equal("203.0.113.9", await SessionAddressAsync(Rfc7239Proxied, "203.0.113.9", ("Forwarded", $"for={Client}")));

        // Only Forwarded counts here: an X-Forwarded-For beside it came from the client; a malformed Forwarded is not applied at all.
        Assert.Equal(Client, await SessionAddressAsync(Rfc7239Proxied, "10.1.2.3", ("Forwarded", $"for={Client}"), ("X-Forwarded-For", "192.0.2.1")));
        Assert.Equal("10.1.2.3", await SessionAddressAsync(Rfc7239Proxied, "10.1.2.3", ("Forwarded", $"for={Client};for=192.0.2.1")));
        Assert.Equal("10.1.2.3", await SessionAddressAsync(Rfc7239Proxied, "10.1.2.3", ("X-Forwarded-For", Client)));
    }

    [Fact]
    public async Task By_default_a_forwarded_header_the_client_wrote_is_not_believed_even_through_a_trusted_proxy()
    {
        // A proxy that writes X-Forwarded-For passes the client's own Forwarded header through untouched.
        Assert.Equal(Client, await SessionAddressAsync(Proxied, "10.1.2.3", ("Forwarded", "for=192.0.2.66"), ("X-Forwarded-For", Client)));
        Assert.Equal("10.1.2.3", await SessionAddressAsync(Proxied, "10.1.2.3", ("Forwarded", "for=192.0.2.66")));
    }

    [Fact]
    public async Task Without_trusted_proxies_no_forwarding_header_counts()
    {
        var plain = app.StartHost(TestPeer.Use);
        Assert.Equal("10.1.2.3", await SessionAddressAsync(plain, "10.1.2.3", ("X-Forwarded-For", Client)));
        Assert.Equal("10.1.2.3", await SessionAddressAsync(plain, "10.1.2.3", ("Forwarded", $"for={Client}")));

        // TestServer's own requests have no peer address at all; ASP.NET Core's middleware would trust their first hop.
        Assert.Null(await SessionAddressAsync(Proxied, "not-an-address", ("X-Forwarded-For", Client)));
    }

    [Theory]
    [InlineData("10.0.0.300")]
    [InlineData("10.0.0.1/8")]
    [InlineData("proxy.internal")]
    public void A_bad_trusted_proxy_entry_stops_the_start_with_a_message_naming_it(string entry)
    {
        var failure = Assert.ThrowsAny<Exception>(() => app.StartHost(b => b.UseSetting("ScaiKey:TrustedProxies", "10.0.0.1," + entry)));
        Assert.Contains($"ScaiKey:TrustedProxies: '{entry}' is not an IP address or a CIDR network", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forwarded_https_gets_hsts_and_an_https_issuer_makes_cookies_secure_even_over_http()
    {
        var https = app.StartHost(b =>
        {
            TestPeer.Use(b);
            b.UseSetting("ScaiKey:TrustedProxies", "10.0.0.0/8");
            b.UseSetting("ScaiKey:Issuer", "https://id.example.com/");
        });
        var slug = await TenantSlugAsync();

        using var proxied = https.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var viaProxy = new HttpRequestMessage(HttpMethod.Get, $"/t/{slug}/login");
        viaProxy.Headers.Add(TestPeer.Header, "10.1.2.3");
        viaProxy.Headers.Add("X-Forwarded-Proto", "https");
        viaProxy.Headers.Add("X-Forwarded-Host", "id.example.com");
        var page = await proxied.SendAsync(viaProxy);
        await page.ShouldBeAsync(200);
        Assert.Equal("max-age=31536000", page.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Contains("secure", FormCookie(page), StringComparison.OrdinalIgnoreCase);

        // The same request from an untrusted peer is plain http: no HSTS, but the https issuer still marks cookies Secure.
        using var direct = new HttpRequestMessage(HttpMethod.Get, $"/t/{slug}/login");
        direct.Headers.Add(TestPeer.Header, "203.0.113.9");
        direct.Headers.Add("X-Forwarded-Proto", "https");
        direct.Headers.Add("X-Forwarded-Host", "id.example.com");
        var plain = await proxied.SendAsync(direct);
        await plain.ShouldBeAsync(200);
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
        var formCookie = FormCookie(plain);
        Assert.Contains("secure", formCookie, StringComparison.OrdinalIgnoreCase);

        // The sign-in cookie too.
        var tenantId = await app.DbAsync(db => db.Tenants.Where(t => t.Slug == slug).Select(t => t.Id).SingleAsync());
        var email = $"u{Guid.NewGuid():N}@example.com";
        await app.CreateUserIdAsync(tenantId, email, PasswordGrantApp.Password);
        var html = await plain.Content.ReadAsStringAsync();
        using var login = new HttpRequestMessage(HttpMethod.Post, $"/t/{slug}/login")
        {
            Content = Forms.From(html, ("email", email), ("password", PasswordGrantApp.Password)),
        };
        login.Headers.Add("Cookie", formCookie.Split(';')[0]);
        var signedIn = await proxied.SendAsync(login);
        await signedIn.ShouldBeAsync(200);
        var signInCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("scaikey_signin=", StringComparison.Ordinal));
        Assert.Contains("secure", signInCookie, StringComparison.OrdinalIgnoreCase);

        // Control: without an https issuer, a plain http page's cookie is not Secure.
        using var local = app.Anonymous();
        var control = await local.GetAsync($"/t/{slug}/login");
        Assert.DoesNotContain("secure", FormCookie(control), StringComparison.OrdinalIgnoreCase);
        Assert.False(control.Headers.Contains("Strict-Transport-Security"));
    }

    private async Task<string> TenantSlugAsync()
    {
        var tenantId = await app.CreateTenantAsync();
        return await app.DbAsync(db => db.Tenants.Where(t => t.Id == tenantId).Select(t => t.Slug).SingleAsync());
    }

    private static string FormCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("scaikey_form=", StringComparison.Ordinal));
}
