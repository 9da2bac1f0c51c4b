using System.Text.RegularExpressions;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.AdminConsole;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The tenant settings form compares versions and then PATCHes: two calls. A change landing between them must not
/// be overwritten: the PATCH carries the ETag just read, and a 412 shows both versions as any other conflict.
/// </summary>
public sealed class ConsoleSettingsRaceTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    /// <summary>Before the console's first PATCH of a tenant, another admin's PATCH lands (same credentials, no If-Match).</summary>
    private sealed class Interposer(string competingBody) : DelegatingHandler
    {
        private int _done;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Patch && request.RequestUri!.AbsolutePath.Contains("/api/v1/admin/tenants/", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _done, 1) == 0)
            {
                using var competing = new HttpRequestMessage(HttpMethod.Patch, request.RequestUri)
                {
                    Content = new StringContent(competingBody, System.Text.Encoding.UTF8, "application/json"),
                };
                competing.Headers.Authorization = request.Headers.Authorization;
                using var landed = await base.SendAsync(competing, cancellationToken);
                Assert.True(landed.IsSuccessStatusCode, await landed.Content.ReadAsStringAsync(cancellationToken));
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task A_change_landing_between_the_forms_check_and_its_write_is_shown_as_a_conflict_not_overwritten()
    {
        var (tenantId, slug, email) = await ConsoleAppsHttpTests.TenantWithAdminAsync(app, "PLATFORM_ADMIN");
        var interposer = new Interposer("""{"settings":{"password_policy":{"min_length":20}}}""");
        await using var console = new ConsoleInProcess(app, b => b.ConfigureTestServices(services =>
            services.AddHttpClient<ConsoleApi>().AddHttpMessageHandler(() => interposer)));
        using var browser = await console.SignInAsync(slug, email, ConsoleAppsHttpTests.Password);
        var path = $"/console/tenants/{tenantId}/settings";
        var page = await ConsoleInProcess.PageAsync(await browser.GetAsync(path), 200);
        var version = System.Net.WebUtility.HtmlDecode(Regex.Match(page, "name=\"version\" value=\"([^\"]*)\"").Groups[1].Value);

        var posted = await browser.PostAsync(path, ConsoleInProcess.Form(
            ("form_token", ConsoleInProcess.FormToken(page)), ("version", version), ("password_policy.min_length", "16"),
            ("password_policy.max_length", "256"), ("password_policy.block_common_passwords", "true"), ("lockout_policy.max_failed_attempts", "5"),
            ("lockout_policy.lockout_duration_minutes", "15"), ("mfa_policy.required", "false"), ("allowed_redirect_uris", "")));
        var conflict = await ConsoleInProcess.PageAsync(posted, 409);
        Assert.Contains("Someone else changed these settings", conflict, StringComparison.Ordinal);
        Assert.Matches("<td>16</td><td>20</td>", conflict);

        using var platform = await app.AdminAsync();
        var settings = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["settings"]!;
        Assert.Equal(20, settings["password_policy"]!["min_length"]!.GetValue<int>());

        // Control: posted again against the version now shown, it is saved.
        var fresh = await ConsoleInProcess.PageAsync(await browser.GetAsync(path), 200);
        var again = await browser.PostAsync(path, ConsoleInProcess.Form(
            ("form_token", ConsoleInProcess.FormToken(fresh)),
            ("version", System.Net.WebUtility.HtmlDecode(Regex.Match(fresh, "name=\"version\" value=\"([^\"]*)\"").Groups[1].Value)),
            ("password_policy.min_length", "16"), ("password_policy.max_length", "256"), ("password_policy.block_common_passwords", "true"),
            ("lockout_policy.max_failed_attempts", "5"), ("lockout_policy.lockout_duration_minutes", "15"), ("mfa_policy.required", "false"),
            ("allowed_redirect_uris", "")));
        await ConsoleInProcess.PageAsync(again, 302);
    }
}
