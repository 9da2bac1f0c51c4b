using System.ComponentModel;
using ScaiKey.Api.Http;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Account;

[Description("Change of the signed-in user's own password.")]
internal sealed record AccountPasswordChange(string CurrentPassword, string NewPassword);

[Description("Starts a TOTP enrolment; the name tells the user's factors apart (e.g. \"Phone\").")]
internal sealed record TotpEnrolmentStart(string? Name);

[Description("A TOTP enrolment in progress: what the authenticator app needs. The secret is shown once; the factor counts only once confirmed.")]
internal sealed record TotpEnrolmentResponse(string FactorId, string Secret, string OtpauthUri);

[Description("A code from the authenticator app, confirming an enrolment.")]
internal sealed record TotpConfirmation(string Code);

[Description("Ten single-use recovery codes, shown once; any earlier set no longer works.")]
internal sealed record RecoveryCodesResponse(IReadOnlyList<string> RecoveryCodes);

[Description("A sign-in session of the signed-in user; current marks the one this request's token belongs to.")]
public sealed record AccountSessionResponse(string Id, DateTime CreatedAt, DateTime LastSeenAt, string? IpAddress, string? UserAgent, bool Current);

internal static class AccountInput
{
    public const int MaxFactorName = 100;

    public static AccountPasswordChange ReadPasswordChange(BodyReader r) =>
        new(r.RequiredString("current_password", UserInput.MaxPasswordLength) ?? string.Empty,
            r.RequiredString("new_password", UserInput.MaxPasswordLength) ?? string.Empty);

    public static TotpEnrolmentStart ReadTotpStart(BodyReader r)
    {
        var name = r.String("name", MaxFactorName)?.Trim();
        return new TotpEnrolmentStart(name is { Length: > 0 } ? name : null);
    }

    public static TotpConfirmation ReadTotpConfirmation(BodyReader r) => new(r.RequiredString("code", 64) ?? string.Empty);
}
