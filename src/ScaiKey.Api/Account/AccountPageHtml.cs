using System.Globalization;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Account;

/// <summary>What the account page shows; <see cref="Base"/> is /t/{slug}/account (with any path base).</summary>
/// <remarks>Public: Razor components are public classes and take it as a parameter.</remarks>
public sealed record AccountView(
    HostedBrand? Brand, string Base, string Email, string FormToken, bool RecentSignIn, string SignInAgainUrl,
    IReadOnlyList<MfaFactorResponse> Factors, IReadOnlyList<AccountSessionResponse> Sessions, string? Notice, IReadOnlyList<string> Errors,
    string PasswordHint);

/// <summary>
/// The hosted account page and its two one-time views (a TOTP enrolment, a set of recovery codes): Razor components
/// in the sign-in pages' layout (Account/Components/), no script; every action is a small form of its own.
/// </summary>
internal static class AccountPageHtml
{
    internal const string ExtraStyle = """
        main { max-width: 40rem; }
        h2 { margin: 2rem 0 0.5rem; font-size: 1.2rem; }
        .item { margin: 0.75rem 0; padding: 0.75rem; border: 1px solid GrayText; border-radius: 0.25rem; }
        .item p { margin: 0.15rem 0; }
        .item form button, form.inline button { width: auto; margin-top: 0.5rem; padding: 0.4rem 0.9rem; }
        input[type=text] { box-sizing: border-box; width: 100%; padding: 0.6rem; font-size: 1rem; border: 1px solid CanvasText; border-radius: 0.25rem; background: Field; color: FieldText; }
        .secret, .codes { font-family: ui-monospace, monospace; font-size: 1.1rem; overflow-wrap: anywhere; }
        .qr svg { width: 12rem; height: 12rem; background: #fff; }
        .notice { padding: 0.75rem 1rem; border: 2px solid #057a55; border-radius: 0.25rem; }
        """;

    public static HostedView Page(AccountView view) =>
        HostedView.Of<Components.AccountPage>(view.Brand, new() { ["View"] = view });

    /// <summary>The enrolment step: QR code and secret (shown once), and the field for the first code.</summary>
    public static HostedView Enrolment(FormContext form, string? secret, string? otpAuthUri, string factorId, string backUrl) =>
        HostedView.Of<Components.AccountEnrolmentPage>(form.Brand, new()
        {
            ["Form"] = form, ["Secret"] = secret, ["OtpAuthUri"] = otpAuthUri, ["FactorId"] = factorId, ["BackUrl"] = backUrl,
        });

    /// <summary>A new set of recovery codes, shown this once.</summary>
    public static HostedView RecoveryCodes(HostedBrand? brand, IReadOnlyList<string> codes, string backUrl) =>
        HostedView.Of<Components.AccountRecoveryCodesPage>(brand, new() { ["Brand"] = brand, ["Codes"] = codes, ["BackUrl"] = backUrl });

    internal static string FactorLabel(MfaFactorResponse factor)
    {
        var kind = factor.Type == Data.Entities.MfaFactorTypes.Totp ? "Authenticator app" : "Passkey";
        return factor.Name is { Length: > 0 } name ? $"{kind}: {name}" : kind;
    }

    internal static string Date(DateTime value) => value.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
