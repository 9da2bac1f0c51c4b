using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ScaiKey.Api.Account;
using ScaiKey.Api.Federation;
using ScaiKey.Api.Mfa.Passkeys;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The hosted pages written as Razor components (second factor, account, passkeys, federation link), rendered on
/// their own: every value a user or an upstream provider controls comes out encoded, and the only script is the
/// service's passkeys.js where passkeys are offered. The pages' flows are tested over HTTP in MfaSignInTests,
/// MfaPolicyTests, AccountPageTests, PasskeyTests and OidcFederationTests.
/// </summary>
public sealed class HostedComponentsTests
{
    private const string Hostile = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";
    private static readonly DateTime At = new(2026, 1, 2, 3, 4, 0, DateTimeKind.Utc);

    public static TheoryData<string> Pages() => [.. Views().Keys];

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Values_from_users_and_providers_are_encoded_and_only_the_passkey_script_loads(string page)
    {
        var html = await RenderAsync(Views()[page]);

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        var scripts = Regex.Matches(html, "<script[^>]*>").Select(m => m.Value).Distinct().ToList();
        Assert.True(scripts.Count == 0 || scripts.SequenceEqual(["<script src=\"/assets/passkeys.js\" defer>"]), html);

        // The control: the same page with the value left out has no such text, so the assertion above read the value.
        Assert.DoesNotContain("alert(1)", await RenderAsync(Views("plain")[page]), StringComparison.Ordinal);
    }

    private static Dictionary<string, HostedView> Views(string value = Hostile)
    {
        var brand = new HostedBrand(value, null, null, null, null);
        var form = new FormContext(brand, "/t/acme/page", "token", [value]);
        var passkey = new PasskeySignIn("/t/acme/passkeys/assertion-options", "/t/acme/passkeys/sign-in", "/assets/passkeys.js");
        var view = new AccountView(brand, "/t/acme/account", value, "token", RecentSignIn: true, "/t/acme/login",
            [new MfaFactorResponse("f1", "TOTP", value, At, At)], [new AccountSessionResponse("s1", At, At, value, value, Current: true)],
            value, [value], value);
        return new()
        {
            ["mfa"] = SecondFactorHtml.Challenge(form, "/t/acme/mfa?method=recovery", "/t/acme/mfa", recovery: false, hasTotp: true, passkey),
            ["mfa-recovery"] = SecondFactorHtml.Challenge(form, "/t/acme/mfa?method=recovery", "/t/acme/mfa", recovery: true),
            ["mfa-enroll"] = SecondFactorHtml.Enrol(form, value, "<svg role=\"img\"></svg>", "JBSWY3DPEHPK3PXP", value),
            ["mfa-codes"] = SecondFactorHtml.RecoveryCodes(form, [value]),
            ["account"] = AccountPageHtml.Page(view),
            ["account-totp"] = AccountPageHtml.Enrolment(form, "JBSWY3DPEHPK3PXP", "otpauth://totp/" + Uri.EscapeDataString(value) + "?secret=JBSWY3DPEHPK3PXP", value, "/t/acme/account"),
            ["account-codes"] = AccountPageHtml.RecoveryCodes(brand, [value], "/t/acme/account"),
            ["passkeys"] = PasskeyPageHtml.AccountPasskeys(new PasskeyListPage(form, value, [new PasskeySummary("k1", value, At, null)],
                "/t/acme/passkeys/registration-options", "/assets/passkeys.js", value, value)),
            ["federation-link"] = FederationLinkPages.LinkPage(form, value, value, value),
        };
    }

    private static async Task<string> RenderAsync(HostedView view)
    {
        await using var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
        return await renderer.Dispatcher.InvokeAsync(async () =>
            (await renderer.RenderComponentAsync(view.Component, ParameterView.FromDictionary(view.Parameters.ToDictionary()))).ToHtmlString());
    }
}
