using ScaiKey.Data.Entities;

namespace ScaiKey.Api.SignIn;

/// <summary>What a user's tokens say about them (standard claims).</summary>
internal sealed record PrincipalUser(
    string Id, string Email, bool EmailVerified, string? FirstName, string? LastName, string? DisplayName, string Locale, string Timezone);

/// <summary>
/// A live user found by email for a password check, with what its tokens will say and whether a confirmed second
/// factor exists (read in the same statement, so asking for MFA costs the sign-in no extra round trip).
/// </summary>
internal sealed record SignInUser(
    string? PasswordHash, UserStatus Status, DateTime? LockedAt, bool RequirePasswordChange, PrincipalUser Principal, bool HasSecondFactor = false,
    IdentitySource IdentitySource = IdentitySource.Local)
{
    public string Id => Principal.Id;
}

/// <summary>
/// A successful sign-in to commit: the user's row, a new session, for the password grant its token grant, and the
/// <c>user.signed_in</c> audit event (<paramref name="AuditId"/>, its reason naming how the user signed in), and
/// for a sign-in finished with a second factor the pending step (<paramref name="ChallengeId"/>) used up: the session
/// exists exactly when the step was spent, in one write transaction. A sealed step (<paramref name="SealedChallenge"/>,
/// the password grant's mfa_token) is spent by writing its row as used, refused when a row says it was used or ended;
/// a TOTP code's step (<paramref name="Totp"/>) is claimed on its factor in the same transaction.
/// </summary>
internal sealed record NewSession(
    string TenantId, string UserId, string SessionId, string? UserAgent, string? IpAddress, DateTime Now, string? UpgradedHash,
    string? GrantId, string? GrantClientId, string Amr = "pwd", string? AuditId = null, string? RequestId = null, string? ChallengeId = null,
    SealedStepSpend? SealedChallenge = null, Mfa.TotpClaim? Totp = null)
{
    public const string SignedInAction = "user.signed_in";

    /// <summary>What the audit trail says of the sign-in: the amr values and, for a grant, the client. Never a secret.</summary>
    public string AuditReason => "amr=" + Amr + (GrantClientId is null ? string.Empty : " client=" + GrantClientId);
}
