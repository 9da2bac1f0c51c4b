namespace ScaiKey.Data.Entities;

/// <summary>
/// A second factor of a user: a TOTP authenticator (its secret sealed by the key ring) or a WebAuthn credential (a
/// passkey, which may also sign in without a password). Only a confirmed factor counts: an unconfirmed TOTP factor
/// is an enrolment in progress and is never asked for.
/// </summary>
public sealed class MfaFactor
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string UserId { get; set; }

    // TOTP or WEBAUTHN (MfaFactorTypes).
    public required string Type { get; set; }
    public string? Name { get; set; }

    // TOTP: the shared secret, sealed by the key ring; never returned after enrolment.
    public string? SecretEncrypted { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ConfirmedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }

    // TOTP: the last time step a code was accepted for; a code of that step or an earlier one is a replay.
    public long? LastUsedStep { get; set; }

    // WEBAUTHN: the credential id (base64url), its COSE public key and the authenticator's signature counter.
    public string? CredentialId { get; set; }
    public byte[]? PublicKey { get; set; }
    public long SignCount { get; set; }
}

public static class MfaFactorTypes
{
    public const string Totp = "TOTP";
    public const string WebAuthn = "WEBAUTHN";
}

/// <summary>One of a user's single-use recovery codes, stored as a SHA-256 hash (the codes carry 50+ bits of entropy).</summary>
public sealed class MfaRecoveryCode
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string UserId { get; set; }
    public required string CodeHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UsedAt { get; set; }
}

/// <summary>
/// A short-lived, single-use step of a sign-in or ceremony held on the server: the password grant's mfa_token
/// (MFA or enrolment pending), the hosted pages' second-factor step, a WebAuthn registration or assertion challenge.
/// The token that names it leaves only as its hash here.
/// </summary>
public sealed class MfaChallenge
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }

    // Null for a passwordless WebAuthn assertion, where the user is not known until the credential answers.
    public string? UserId { get; set; }

    // MfaChallengePurposes.
    public required string Purpose { get; set; }
    public required string TokenHash { get; set; }

    // The client of a password grant, which alone may finish it.
    public string? ClientId { get; set; }

    // What the purpose needs to carry over (scopes, the pending password upgrade, WebAuthn options as JSON).
    public string? Data { get; set; }
    public int FailedAttempts { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
}

public static class MfaChallengePurposes
{
    public const string PasswordGrant = "PASSWORD_GRANT";
    public const string Enrollment = "ENROLLMENT";
    public const string HostedSignIn = "HOSTED_SIGN_IN";
    public const string WebAuthnRegistration = "WEBAUTHN_REGISTRATION";
    public const string WebAuthnAssertion = "WEBAUTHN_ASSERTION";
}
