using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// /t/{slug}/forgot-password from the login page: a reset link by email for an active local user with a password,
/// the same page and no mail for every other address, at most one mail per user per interval, and the sign-in
/// limits on every request.
/// </summary>
public sealed class ForgotPasswordTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string NewPassword = "Copper-Meadow-4471!";

    private static async Task<HttpResponseMessage> RequestResetAsync(HttpClient browser, string slug, string email, string? returnUrl = null)
    {
        var page = await browser.GetAsync($"/t/{slug}/forgot-password" + (returnUrl is null ? string.Empty : "?return_url=" + Uri.EscapeDataString(returnUrl)));
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        return await browser.PostAsync($"/t/{slug}/forgot-password", Forms.From(html, ("email", email)));
    }

    private Task<int> ResetLinksAsync(string userId) =>
        app.DbAsync(db => db.UserActionTokens.CountAsync(t => t.UserId == userId && t.Purpose == "PASSWORD_RESET"));

    private Task<int> MailsAsync(string email) =>
        app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == email));

    [Fact]
    public async Task The_login_page_links_to_forgot_password_and_the_return_url_leads_back_to_sign_in()
    {
        var client = await OidcTestClient.CreateAsync(app);
        using var browser = client.Browser(app);
        var login = (await browser.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString;
        var returnUrl = login[(login.IndexOf("return_url=", StringComparison.Ordinal) + "return_url=".Length)..];
        var loginHtml = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        var forgot = $"/t/{client.Slug}/forgot-password?return_url={returnUrl}";
        Assert.Contains($"<a href=\"{WebUtility.HtmlEncode(forgot)}\">Forgot your password?</a>", loginHtml, StringComparison.Ordinal);

        // The form keeps the return URL, and so does the answer's way back.
        var form = await (await browser.GetAsync(forgot)).Content.ReadAsStringAsync();
        Assert.Equal(Uri.UnescapeDataString(returnUrl), Forms.Hidden(form, "return_url"));
        Assert.Contains("autocomplete=\"username\"", form, StringComparison.Ordinal);
        var sent = await browser.PostAsync($"/t/{client.Slug}/forgot-password", Forms.From(form, ("email", "nobody@example.com")));
        var html = await sent.Content.ReadAsStringAsync();
        Assert.True(sent.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains($"<a href=\"{WebUtility.HtmlEncode(login)}\">Back to sign in</a>", html, StringComparison.Ordinal);

        // Only this server's authorization endpoint is a way back (control: the same page without one works above).
        var evil = await browser.GetAsync($"/t/{client.Slug}/forgot-password?return_url={Uri.EscapeDataString("https://evil.example.com/")}");
        Assert.Equal(HttpStatusCode.BadRequest, evil.StatusCode);
    }

    [Fact]
    public async Task A_reset_link_reaches_the_user_and_the_new_password_signs_in()
    {
        await using var mail = MailHarness.Start(app);
        var client = await OidcTestClient.CreateAsync(app);
        var email = $"forgot-{Guid.NewGuid():N}@example.com";
        var userId = await app.CreateUserIdAsync(client.TenantId, email, OidcTestClient.Password);
        using var browser = client.Browser(app);

        // Typed as sign-in would accept it: another case, spaces around.
        var answer = await RequestResetAsync(browser, client.Slug, "  " + email.ToUpperInvariant() + " ");
        Assert.Contains("Check your email", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var message = await mail.WaitForAsync(email, "Reset your");
        Assert.Contains("asked to reset the password", MailHarness.Body(message), StringComparison.Ordinal);
        var link = MailHarness.Link(message);
        Assert.StartsWith($"http://localhost/t/{client.Slug}/reset-password?token=", link, StringComparison.Ordinal);
        var page = await browser.GetAsync(link);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        var done = await browser.PostAsync($"/t/{client.Slug}/reset-password", Forms.From(html, ("new_password", NewPassword), ("confirm_password", NewPassword)));
        Assert.Contains("Your password is set.", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The new password signs in through the code flow; the old one no longer does.
        await client.SignInAsync(app, email, password: NewPassword);
        using var other = client.Browser(app);
        var loginPage = (await other.GetAsync(client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString;
        var loginHtml = await (await other.GetAsync(loginPage)).Content.ReadAsStringAsync();
        var refused = await other.PostAsync($"/t/{client.Slug}/login", Forms.From(loginHtml, ("email", email), ("password", OidcTestClient.Password)));
        Assert.Contains("Invalid email or password.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Audited as asked for on the page, by no signed-in actor, without the link.
        var events = await app.DbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(e => e.TargetId == userId && e.Action == "user.password_reset_requested").ToListAsync());
        var requested = Assert.Single(events);
        Assert.Equal("SYSTEM", requested.ActorType);
        Assert.Equal("Forgot-password page", requested.Reason);
        var token = link[(link.IndexOf("token=", StringComparison.Ordinal) + "token=".Length)..];
        Assert.DoesNotContain(Uri.UnescapeDataString(token), System.Text.Json.JsonSerializer.Serialize(requested), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_disabled_and_passwordless_addresses_get_the_same_page_and_no_mail()
    {
        await using var mail = MailHarness.Start(app);
        var client = await OidcTestClient.CreateAsync(app);
        var known = $"known-{Guid.NewGuid():N}@example.com";
        var disabled = $"disabled-{Guid.NewGuid():N}@example.com";
        var invited = $"invited-{Guid.NewGuid():N}@example.com";
        var unknown = $"unknown-{Guid.NewGuid():N}@example.com";
        await app.CreateUserIdAsync(client.TenantId, known, OidcTestClient.Password);
        var disabledId = await app.CreateUserIdAsync(client.TenantId, disabled, OidcTestClient.Password);
        var invitedId = await app.CreateUserIdAsync(client.TenantId, invited);
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PutAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{disabledId}/status", new { status = "DISABLED" })).ShouldBeAsync(200);
        }

        var pages = new Dictionary<string, string>();
        foreach (var email in new[] { known, disabled, invited, unknown })
        {
            using var browser = client.Browser(app);
            var answer = await RequestResetAsync(browser, client.Slug, email);
            pages[email] = $"{(int)answer.StatusCode}\n{await answer.Content.ReadAsStringAsync()}";
        }

        Assert.Single(pages.Values.Distinct(StringComparer.Ordinal));

        // The control's mail arrives; the others have none queued at all, and no reset link exists for them.
        await mail.WaitForAsync(known, "Reset your");
        foreach (var email in new[] { disabled, unknown })
        {
            Assert.Equal(0, await MailsAsync(email));
        }

        Assert.Equal(0, await ResetLinksAsync(disabledId));
        Assert.Equal(0, await ResetLinksAsync(invitedId));
        Assert.DoesNotContain(mail.Smtp.For(invited), m => (m.Message.Subject ?? string.Empty).Contains("Reset", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mailbox_gets_at_most_one_reset_mail_per_interval()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            var client = await OidcTestClient.CreateAsync(app);
            var email = $"flood-{Guid.NewGuid():N}@example.com";
            var userId = await app.CreateUserIdAsync(client.TenantId, email, OidcTestClient.Password);
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

            var first = await (await RequestResetAsync(browser, client.Slug, email)).Content.ReadAsStringAsync();
            var second = await (await RequestResetAsync(browser, client.Slug, email)).Content.ReadAsStringAsync();
            Assert.Equal(first, second);
            Assert.Equal(1, await ResetLinksAsync(userId));
            Assert.Equal(1, await MailsAsync(email));

            // Control: once the interval has passed, the next request mails a new link (and the first one dies).
            clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
            await (await RequestResetAsync(browser, client.Slug, email)).ShouldBeAsync(200);
            Assert.Equal(2, await ResetLinksAsync(userId));
            Assert.Equal(2, await MailsAsync(email));
            Assert.Equal(1, await app.DbAsync(db => db.UserActionTokens.CountAsync(t => t.UserId == userId && t.Purpose == "PASSWORD_RESET" && t.UsedAt == null)));
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Requests_spend_the_sign_in_limit_of_the_address_whether_or_not_it_has_an_account()
    {
        var host = app.StartHost(b => b.UseSetting("ScaiKey:RateLimits:PerAccountPerMinute", "2"));
        try
        {
            var client = await OidcTestClient.CreateAsync(app);
            var known = $"limited-{Guid.NewGuid():N}@example.com";
            await app.CreateUserIdAsync(client.TenantId, known, OidcTestClient.Password);
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            foreach (var email in new[] { known, $"nobody-{Guid.NewGuid():N}@example.com" })
            {
                await (await RequestResetAsync(browser, client.Slug, email)).ShouldBeAsync(200);
                await (await RequestResetAsync(browser, client.Slug, email)).ShouldBeAsync(200);
                var limited = await RequestResetAsync(browser, client.Slug, email);
                Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
                Assert.True(limited.Headers.RetryAfter is not null, "no Retry-After");
                Assert.Contains("Too many requests", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // Control: another address is not limited by these.
            await (await RequestResetAsync(browser, client.Slug, $"fresh-{Guid.NewGuid():N}@example.com")).ShouldBeAsync(200);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task A_post_without_the_form_token_sends_nothing()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var email = $"csrf-{Guid.NewGuid():N}@example.com";
        var userId = await app.CreateUserIdAsync(client.TenantId, email, OidcTestClient.Password);
        using var browser = client.Browser(app);
        var forged = await browser.PostAsync($"/t/{client.Slug}/forgot-password", new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = email }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(0, await ResetLinksAsync(userId));

        // Control: the same address through the form gets its link.
        await (await RequestResetAsync(browser, client.Slug, email)).ShouldBeAsync(200);
        Assert.Equal(1, await ResetLinksAsync(userId));
    }

    [Fact]
    public async Task With_an_issuer_a_forged_host_header_still_gets_a_link_on_the_issuer()
    {
        await using var mail = MailHarness.Start(app);
        // Every Host passes the host filter here; only the issuer decides the link's origin.
        var host = app.StartHost(b =>
        {
            b.UseSetting("AllowedHosts", "*");
            b.UseSetting("ScaiKey:Issuer", "http://id.example.test/");
        });
        try
        {
            var client = await OidcTestClient.CreateAsync(app);
            var email = $"forged-host-{Guid.NewGuid():N}@example.com";
            await app.CreateUserIdAsync(client.TenantId, email, OidcTestClient.Password);
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions
            {
                AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri("http://evil.example/"),
            });

            await (await RequestResetAsync(browser, client.Slug, email)).ShouldBeAsync(200);
            var message = await mail.WaitForAsync(email, "Reset your");
            var link = MailHarness.Link(message);
            Assert.StartsWith($"http://id.example.test/t/{client.Slug}/reset-password?token=", link, StringComparison.Ordinal);
            Assert.DoesNotContain("evil.example", MailHarness.Body(message), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Without_an_issuer_or_allowed_hosts_outside_development_no_mail_is_sent_and_the_page_is_the_same()
    {
        // Control first: the usual host (AllowedHosts names it) mails the link, and its page is the one to match.
        var client = await OidcTestClient.CreateAsync(app);
        var control = $"trusted-host-{Guid.NewGuid():N}@example.com";
        var controlId = await app.CreateUserIdAsync(client.TenantId, control, OidcTestClient.Password);
        using var trusted = client.Browser(app);
        var expected = await RequestResetAsync(trusted, client.Slug, control);
        var expectedPage = $"{(int)expected.StatusCode}\n{await expected.Content.ReadAsStringAsync()}";
        Assert.Equal(1, await ResetLinksAsync(controlId));
        Assert.Equal(1, await MailsAsync(control));

        // AllowedHosts "*" (the shipped default) and no ScaiKey:Issuer, in Production: any Host header would do.
        var host = app.StartHost(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("AllowedHosts", "*");
        });
        try
        {
            var email = $"untrusted-host-{Guid.NewGuid():N}@example.com";
            var userId = await app.CreateUserIdAsync(client.TenantId, email, OidcTestClient.Password);
            using var browser = host.CreateClient(new WebApplicationFactoryClientOptions
            {
                AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri("http://evil.example/"),
            });
            var answer = await RequestResetAsync(browser, client.Slug, email);
            Assert.Equal(expectedPage, $"{(int)answer.StatusCode}\n{await answer.Content.ReadAsStringAsync()}");
            Assert.Equal(0, await ResetLinksAsync(userId));
            Assert.Equal(0, await MailsAsync(email));
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }
}
