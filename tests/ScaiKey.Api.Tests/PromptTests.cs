using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace ScaiKey.Api.Tests;

/// <summary>
/// prompt and max_age at the authorization endpoint as OpenID Connect Core 1.0 §3.1.2.1 defines them (issue 13,
/// point 3); prompt=consent is in ConsentTests, prompt=login and prompt=none without a session in CodeFlowTests.
/// </summary>
public sealed class PromptTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Theory]
    [InlineData("none%20login")]
    [InlineData("none%20consent")]
    [InlineData("consent%20none")]
    public async Task Prompt_none_with_another_value_is_invalid_request(string prompt)
    {
        var (client, browser) = await SignedInAsync("combined@example.com");
        using var disposeBrowser = browser;

        var refused = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=" + prompt));
        var body = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == System.Net.HttpStatusCode.BadRequest && refused.Headers.Location is null
            && body.Contains("error:invalid_request", StringComparison.Ordinal), $"{(int)refused.StatusCode} {refused.Headers.Location}\n{body}");

        // Control: prompt=none alone, signed in, gets a code.
        await client.CodeFromAsync(await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=none")), expectedState: "state-1");
    }

    [Fact]
    public async Task Max_age_zero_asks_for_the_password_again_and_the_id_token_carries_auth_time()
    {
        var (client, browser) = await SignedInAsync("maxage@example.com");
        using var disposeBrowser = browser;

        // Control: a generous max_age is satisfied by the session.
        var pkce = Pkce.Create();
        var code = await client.CodeFromAsync(await browser.GetAsync(client.AuthorizeUrl(pkce, extra: "&max_age=3600")), expectedState: "state-1");
        var tokens = await (await client.RedeemAsync(app, code, pkce.Verifier)).ReadJsonAsync(200);
        Assert.NotNull(Jwt.Payload(tokens["id_token"]!.GetValue<string>())["auth_time"]);

        // max_age=0 is like prompt=login: the login page although signed in; prompt=none then says login_required.
        ConsentTests.AssertErrorRedirect(client, await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=none&max_age=0")), "login_required");
        var fresh = Pkce.Create();
        var login = (await browser.GetAsync(client.AuthorizeUrl(fresh, extra: "&max_age=0"))).Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/login?return_url=", login, StringComparison.Ordinal);
        var returnUrl = QueryHelpers.ParseQuery(new Uri("http://x" + login).Query)["return_url"].ToString();
        Assert.DoesNotContain("max_age", returnUrl, StringComparison.Ordinal);

        var again = await client.CodeFromAsync(await LogInAgainAsync(client, browser, login, "maxage@example.com"), expectedState: "state-1");
        var id = Jwt.Payload((await (await client.RedeemAsync(app, again, fresh.Verifier)).ReadJsonAsync(200))["id_token"]!.GetValue<string>());
        Assert.True(id["auth_time"]!.GetValue<long>() > 0, id.ToJsonString());
    }

    [Fact]
    public async Task An_authentication_older_than_max_age_asks_again_and_a_younger_one_does_not()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            var client = await OidcTestClient.CreateAsync(app);
            await client.CreateUserAsync(app, "older@example.com");
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            await client.CodeAsync(app, browser, "older@example.com", Pkce.Create());

            clock.Advance(TimeSpan.FromHours(2));
            var login = await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&max_age=3600"));
            Assert.StartsWith($"/t/{client.Slug}/login?", login.Headers.Location!.OriginalString, StringComparison.Ordinal);
            ConsentTests.AssertErrorRedirect(client, await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&max_age=3600&prompt=none")), "login_required");

            // Control: three hours are not yet exceeded.
            await client.CodeFromAsync(await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&max_age=10800")), expectedState: "state-1");
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Prompt_login_shows_the_login_page_to_a_signed_in_user_and_then_issues_a_code()
    {
        var (client, browser) = await SignedInAsync("again@example.com");
        using var disposeBrowser = browser;

        var login = (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=login"))).Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{client.Slug}/login?", login, StringComparison.Ordinal);
        await client.CodeFromAsync(await LogInAgainAsync(client, browser, login, "again@example.com"), expectedState: "state-1");
    }

    /// <summary>A tenant, its application and a user whose browser has signed in once (and got a code).</summary>
    private async Task<(OidcTestClient Client, HttpClient Browser)> SignedInAsync(string email)
    {
        var client = await OidcTestClient.CreateAsync(app);
        await client.CreateUserAsync(app, email);
        var browser = client.Browser(app);
        await client.CodeAsync(app, browser, email, Pkce.Create());
        return (client, browser);
    }

    /// <summary>The login page's form posted with the password, and the way back followed: the authorization endpoint's answer.</summary>
    private static async Task<HttpResponseMessage> LogInAgainAsync(OidcTestClient client, HttpClient browser, string loginUrl, string email)
    {
        var html = await (await browser.GetAsync(loginUrl)).Content.ReadAsStringAsync();
        var posted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", email), ("password", OidcTestClient.Password)));
        await posted.ShouldBeAsync(303);
        return await browser.GetAsync(posted.Headers.Location!.OriginalString);
    }
}
