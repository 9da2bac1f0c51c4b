using Microsoft.AspNetCore.Components;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The second-factor pages (<see cref="SecondFactorPages"/>) as Razor components in the hosted pages' layout, with
/// their error summary and form: the same styles, CSP and accessibility.
/// </summary>
internal static class SecondFactorHtml
{
    /// <summary>
    /// Asks for a code from the authenticator app (when the user has one), offers the user's passkey (when
    /// <paramref name="passkey"/> is set; its button shows once the script finds WebAuthn), or (<paramref name="recovery"/>)
    /// asks for a recovery code.
    /// </summary>
    public static HostedView Challenge(FormContext form, string recoveryUrl, string authenticatorUrl, bool recovery, bool hasTotp = true,
        Mfa.Passkeys.PasskeySignIn? passkey = null) =>
        HostedView.Of<Components.SecondFactorChallengePage>(form.Brand, new()
        {
            ["Form"] = form, ["RecoveryUrl"] = recoveryUrl, ["AuthenticatorUrl"] = authenticatorUrl, ["Recovery"] = recovery,
            ["HasTotp"] = hasTotp, ["Passkey"] = passkey,
        });

    /// <summary>The enrolment a tenant policy requires: the QR code (the service's own SVG), the secret as text, and a field for the first code.</summary>
    public static HostedView Enrol(FormContext form, string account, string qrSvg, string secret, string factorId) =>
        HostedView.Of<Components.SecondFactorEnrolPage>(form.Brand, new()
        {
            ["Form"] = form, ["Account"] = account, ["QrCode"] = new MarkupString(qrSvg), ["Secret"] = secret, ["FactorId"] = factorId,
        });

    /// <summary>The new recovery codes, shown once, and the button that finishes the sign-in.</summary>
    public static HostedView RecoveryCodes(FormContext form, IReadOnlyList<string> codes) =>
        HostedView.Of<Components.SecondFactorRecoveryCodesPage>(form.Brand, new() { ["Form"] = form, ["Codes"] = codes });

    /// <summary>Base32 in groups of four, as authenticator apps show keys and accept them typed with or without spaces.</summary>
    internal static string Grouped(string secret) =>
        string.Join(' ', Enumerable.Range(0, (secret.Length + 3) / 4).Select(i => secret.Substring(i * 4, Math.Min(4, secret.Length - (i * 4)))));
}
