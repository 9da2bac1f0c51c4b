namespace ScaiKey.Api.Mfa.Passkeys;

/// <summary>
/// A ceremony begun: the options for navigator.credentials.create() or .get() (WebAuthn JSON, binary values in
/// base64url), and the token naming its server-side challenge, which the answer must bring back.
/// </summary>
internal sealed record PasskeyCeremony(string ChallengeToken, string OptionsJson);

/// <summary>Why a ceremony's answer was refused; recorded in the audit trail, never shown in detail to the user.</summary>
internal enum PasskeyFailure
{
    None,

    // No such challenge for this purpose and tenant (made up, used already, expired, or another user's).
    ChallengeInvalid,

    // The answer is not WebAuthn JSON at all.
    Malformed,

    // No confirmed passkey of this tenant has the credential id (another tenant's passkey lands here too).
    UnknownCredential,

    // The passkey belongs to someone else than the user this ceremony was for.
    WrongUser,

    // Fido2 refused the answer: origin, RP id, challenge, signature, flags (user verification), attestation.
    Rejected,

    // The authenticator's signature counter did not increase: a sign of a cloned authenticator (WebAuthn 7.2 step 21).
    CounterNotIncreased,

    // The credential is already registered in this tenant.
    AlreadyRegistered,
}

internal sealed record PasskeyRegistrationResult(PasskeyFailure Failure, string? FactorId = null)
{
    public bool Succeeded => Failure == PasskeyFailure.None;
}

/// <summary>
/// An accepted assertion: whose passkey answered, which one, and whether the authenticator verified the user (PIN or
/// biometrics) on top of proving possession.
/// </summary>
internal sealed record PasskeyAssertionResult(PasskeyFailure Failure, string? UserId = null, string? FactorId = null, bool UserVerified = false)
{
    public bool Succeeded => Failure == PasskeyFailure.None;

    /// <summary>
    /// OpenID Connect amr values (RFC 8176) for the passkey: a hardware-held key ("hwk"); verified by PIN or
    /// biometrics it is two factors, something held and something known or been ("mfa").
    /// </summary>
    public string Amr => UserVerified ? "hwk mfa" : "hwk";
}

/// <summary>One of the user's passkeys as the account pages list it; never the key itself.</summary>
public sealed record PasskeySummary(string Id, string? Name, DateTime CreatedAt, DateTime? LastUsedAt);
