using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.AdminConsole;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The console reaches the API over HTTP from the server itself; the admin's own address still reaches the audit
/// trail (and the abuse limits) through a signed header that only a ScaiKey instance can mint.
/// </summary>
public sealed class ConsoleClientAddressTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Console-Address-2026!";

    [Fact]
    public async Task A_console_action_is_audited_with_the_admins_address_and_a_forged_header_is_ignored()
    {
        var tenantId = await app.CreateTenantAsync();
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var email = $"address-admin-{Guid.NewGuid():N}@example.com";
        var adminId = await app.CreateUserIdAsync(tenantId, email, Password);
        await (await platform.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = adminId, role = "TENANT_ADMIN", tenant_id = tenantId })).ShouldBeAsync(201);
        var targetId = await app.CreateUserIdAsync(tenantId, $"target-{Guid.NewGuid():N}@example.com", Password);

        var (host, origin) = LoopbackHost.Start(app, ClientAddress.Use);
        await using var _ = host;

        // The admin's browser, as the machine 203.0.113.77 (the test-only address header; the console's own calls do
        // not carry it, so without the signed header the API would see 127.0.0.1).
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(origin) };
        browser.DefaultRequestHeaders.Add(ClientAddress.Header, "203.0.113.77");
        var start = await browser.GetAsync($"/console/sign-in/start?tenant={slug}&return_url=%2Fconsole");
        var login = (await browser.GetAsync(start.Headers.Location!.OriginalString)).Headers.Location!.OriginalString;
        var loginHtml = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        var posted = await browser.PostAsync($"/t/{slug}/login", Forms.From(loginHtml, ("email", email), ("password", Password)));
        await posted.ShouldBeAsync(303);
        var callback = (await browser.GetAsync(posted.Headers.Location!.OriginalString)).Headers.Location!;
        await browser.GetAsync(callback.PathAndQuery);

        var page = await browser.GetAsync($"/console/tenants/{tenantId}/users/{targetId}");
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        var formToken = System.Text.RegularExpressions.Regex.Match(html, "name=\"form_token\" value=\"([^\"]+)\"").Groups[1].Value;
        var locked = await browser.PostAsync($"/console/tenants/{tenantId}/users/{targetId}/lock",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["form_token"] = formToken, ["reason"] = "address test" }));
        Assert.True(locked.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther, await locked.Content.ReadAsStringAsync());
        var lockEvent = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == targetId && e.ActorId == adminId).OrderBy(e => e.Id).LastAsync());
        Assert.Equal("203.0.113.77", lockEvent.IpAddress);

        // Anyone else sending the header: a made-up signature, and a real one whose address was changed afterwards.
        var signer = host.Services.GetRequiredService<ConsoleClientAddress>();
        var genuine = signer.Sign(IPAddress.Parse("198.51.100.1"), "POST", "Bearer admins-token");
        Assert.Equal(IPAddress.Parse("198.51.100.1"), signer.Verify(genuine, "POST", "Bearer admins-token"));
        Assert.Null(signer.Verify(genuine.Replace("198.51.100.1", "198.51.100.2", StringComparison.Ordinal), "POST", "Bearer admins-token"));
        Assert.Null(signer.Verify("198.51.100.1|" + DateTimeOffset.UtcNow.ToUnixTimeSeconds() + "|AAAA", "POST", "Bearer admins-token"));
        // Replayed by whoever saw it on the wire: on their own credentials, or with another method.
        Assert.Null(signer.Verify(genuine, "POST", "Bearer someone-elses-token"));
        Assert.Null(signer.Verify(genuine, "POST", null));
        Assert.Null(signer.Verify(genuine, "DELETE", "Bearer admins-token"));

        // A platform admin client's token from this host (tokens name their issuer).
        var token = await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        using var direct = new HttpClient { BaseAddress = new Uri(origin) };
        direct.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        direct.DefaultRequestHeaders.Add(ClientAddress.Header, "203.0.113.88");
        direct.DefaultRequestHeaders.Add(ConsoleClientAddress.Header, "198.51.100.1|" + DateTimeOffset.UtcNow.ToUnixTimeSeconds() + "|forged");
        await (await direct.PostAsync($"/api/v1/tenants/{tenantId}/users/{targetId}/unlock", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).ShouldBeAsync(200);
        var unlockEvent = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == targetId && e.Action != lockEvent.Action).OrderBy(e => e.Id).LastAsync());
        Assert.Equal("203.0.113.88", unlockEvent.IpAddress);
    }
}
