using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using ScaiKey.Api.Mfa;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The console signs its admins in through ScaiKey's own hosted pages, so MFA applies to them as to anyone: an admin
/// with a confirmed factor gets no console session from the password alone, and one after the code.
/// </summary>
public sealed class ConsoleMfaSignInTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Console-Mfa-Password-2026!";

    [Fact]
    public async Task An_admin_with_a_factor_reaches_the_console_only_after_the_code()
    {
        var tenantId = await app.CreateTenantAsync();
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var email = $"mfa-admin-{Guid.NewGuid():N}@example.com";
        var adminId = await app.CreateUserIdAsync(tenantId, email, Password);
        await (await platform.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "USER", principal_id = adminId, role = "TENANT_ADMIN", tenant_id = tenantId })).ShouldBeAsync(201);
        byte[] secret;
        await using (var scope = app.Host.Services.CreateAsyncScope())
        {
            var factors = scope.ServiceProvider.GetRequiredService<SecondFactors>();
            var enrolment = await factors.BeginTotpAsync(tenantId, adminId, "Phone", "ScaiKey tests", adminId, CancellationToken.None);
            secret = Base32Encoding.ToBytes(enrolment.Secret);
            Assert.NotNull(await factors.ConfirmTotpAsync(tenantId, adminId, enrolment.FactorId, TotpCodes.Compute(secret, DateTime.UtcNow), CancellationToken.None));
        }

        // On Kestrel, as deployed: the console calls the service's own API over HTTP at the issuer's address.
        var (host, origin) = LoopbackHost.Start(app);
        await using var _ = host;
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(origin) };
        var authorize = await browser.GetAsync($"/console/sign-in/start?tenant={slug}&return_url=%2Fconsole");
        await authorize.ShouldBeAsync(302);
        var toLogin = await browser.GetAsync(authorize.Headers.Location!.OriginalString);
        await toLogin.ShouldBeAsync(302);
        var login = toLogin.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{slug}/login", login, StringComparison.Ordinal);
        var loginHtml = await (await browser.GetAsync(login)).Content.ReadAsStringAsync();
        var passwordStep = await browser.PostAsync($"/t/{slug}/login", Forms.From(loginHtml, ("email", email), ("password", Password)));
        await passwordStep.ShouldBeAsync(303);
        Assert.Equal($"/t/{slug}/mfa", passwordStep.Headers.Location!.OriginalString);

        // The password alone: no console session, and the authorization endpoint still wants a sign-in.
        var gate = await browser.GetAsync("/console");
        Assert.StartsWith("/console/sign-in", gate.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
        Assert.StartsWith($"/t/{slug}/login", (await browser.GetAsync(authorize.Headers.Location!.OriginalString)).Headers.Location!.OriginalString, StringComparison.Ordinal);

        // The code of the next step (the enrolment used this one, and a code works once).
        var mfaHtml = await (await browser.GetAsync($"/t/{slug}/mfa")).Content.ReadAsStringAsync();
        var codeStep = await browser.PostAsync($"/t/{slug}/mfa", Forms.From(mfaHtml, ("code", TotpCodes.Compute(secret, DateTime.UtcNow.AddSeconds(30)))));
        await codeStep.ShouldBeAsync(303);
        var toCallback = await browser.GetAsync(codeStep.Headers.Location!.OriginalString);
        await toCallback.ShouldBeAsync(302);
        Assert.StartsWith(origin + "/console/callback?", toCallback.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var signedIn = await browser.GetAsync(toCallback.Headers.Location!.PathAndQuery);
        Assert.True(signedIn.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther, await signedIn.Content.ReadAsStringAsync());

        var users = await browser.GetAsync($"/console/tenants/{tenantId}/users");
        var html = await users.Content.ReadAsStringAsync();
        Assert.True(users.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains(email, html, StringComparison.Ordinal);
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == adminId && e.Action == "user.signed_in" && e.Reason == "amr=pwd otp mfa")));
    }
}
