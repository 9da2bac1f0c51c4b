using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.Mfa.Passkeys;

/// <summary>What the login page needs to offer "Sign in with a passkey": where the script gets options and posts the answer.</summary>
public sealed record PasskeySignIn(string OptionsUrl, string Action, string ScriptUrl);

/// <summary>What the account's passkeys page shows.</summary>
/// <remarks>Public: Razor components are public classes and take it as a parameter.</remarks>
public sealed record PasskeyListPage(
    FormContext Form, string Account, IReadOnlyList<PasskeySummary> Passkeys, string OptionsUrl, string ScriptUrl, string? Status, string? Name);

/// <summary>
/// The passkey parts of the hosted pages, as Razor components in the hosted layout (Mfa/Passkeys/Components/). The
/// one script is the service's own /assets/passkeys.js; nothing inline (the CSP allows script-src 'self' only).
/// </summary>
internal static class PasskeyPageHtml
{
    public static HostedView AccountPasskeys(PasskeyListPage page) =>
        HostedView.Of<Components.AccountPasskeysPage>(page.Form.Brand, new() { ["Page"] = page });
}
