using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Mfa.Passkeys;

/// <summary>
/// Passkeys (WebAuthn) through Fido2, which does every check of the ceremonies (origin, RP id, challenge, flags,
/// attestation, signature); this class keeps the challenges on the server (single use, short-lived), keeps the
/// credentials per tenant and user, and watches the signature counter. Every query filters by tenant.
/// </summary>
internal sealed class PasskeyService(
    ScaiKeyDbContext db, PasskeyRelyingParty relyingParty, SecondFactors factors, AuditLog audit, TimeProvider time, IHttpContextAccessor accessor)
{
    public const int MaxNameLength = 100;
    public const string DefaultName = "Passkey";

    // WebAuthn credential ids are at most 1023 bytes (section 5.1); the column holds their base64url form.
    private const int MaxCredentialIdBytes = 1023;
    private const int MaxPublicKeyBytes = 2048;

    // A WebAuthn answer is a few kilobytes; far longer is not worth parsing.
    private const int MaxResponseChars = 64 * 1024;

    /// <summary>Options for registering a new passkey of an ACTIVE user; null when there is no such user.</summary>
    public async Task<PasskeyCeremony?> BeginRegistrationAsync(TenantContext tenant, string userId, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId && u.TenantId == tenant.Id && u.DeletedAt == null && u.Status == UserStatus.Active)
            .Select(u => new { u.Email, u.DisplayName, u.FirstName, u.LastName })
            .FirstOrDefaultAsync(ct);
        if (user is null)
        {
            return null;
        }

        var displayName = user.DisplayName
            ?? string.Join(' ', new[] { user.FirstName, user.LastName }.Where(n => !string.IsNullOrEmpty(n)));
        var options = Fido(tenant).RequestNewCredential(new RequestNewCredentialParams
        {
            // The user handle is the opaque user id: no personal data goes into the authenticator's handle.
            User = new Fido2User { Id = UserHandle(userId), Name = user.Email, DisplayName = displayName.Length > 0 ? displayName : user.Email },

            // The authenticator refuses to make a second credential for the same account on it.
            ExcludeCredentials = await CredentialsOfAsync(tenant.Id, userId, ct),

            // Discoverable, so it can sign in without a username; user verification wherever the authenticator can,
            // required only when signing in without a password.
            AuthenticatorSelection = new AuthenticatorSelection
            {
                ResidentKey = ResidentKeyRequirement.Required,
                UserVerification = UserVerificationRequirement.Preferred,
            },

            // No attestation: ScaiKey trusts any authenticator the user chooses, and asking would reveal its make.
            AttestationPreference = AttestationConveyancePreference.None,
        });
        return await SaveChallengeAsync(tenant.Id, userId, MfaChallengePurposes.WebAuthnRegistration, options.ToJson(), ct);
    }

    /// <summary>
    /// Verifies the browser's answer to <see cref="BeginRegistrationAsync"/> and stores the passkey as a confirmed
    /// factor: mfa_enabled follows, and the enrolment is audited.
    /// </summary>
    public async Task<PasskeyRegistrationResult> CompleteRegistrationAsync(
        TenantContext tenant, string userId, string challengeToken, string attestationResponseJson, string? name, CancellationToken ct)
    {
        var challenge = await ClaimAsync(tenant.Id, MfaChallengePurposes.WebAuthnRegistration, challengeToken, ct);
        if (challenge is null || challenge.UserId != userId || challenge.Data is null)
        {
            return new PasskeyRegistrationResult(PasskeyFailure.ChallengeInvalid);
        }

        if (Parse<AuthenticatorAttestationRawResponse>(attestationResponseJson) is not { } response)
        {
            return new PasskeyRegistrationResult(PasskeyFailure.Malformed);
        }

        RegisteredPublicKeyCredential credential;
        try
        {
            credential = await Fido(tenant).MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = response,
                OriginalOptions = CredentialCreateOptions.FromJson(challenge.Data),
                IsCredentialIdUniqueToUserCallback = async (args, token) =>
                {
                    var id = Base64Url.EncodeToString(args.CredentialId);
                    return !await db.MfaFactors.AsNoTracking().AnyAsync(f => f.TenantId == tenant.Id && f.CredentialId == id, token);
                },
            }, ct);
        }
        catch (Fido2VerificationException ex) when (ex.Code == Fido2NetLib.Exceptions.Fido2ErrorCode.NonUniqueCredentialId)
        {
            return new PasskeyRegistrationResult(PasskeyFailure.AlreadyRegistered);
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            return new PasskeyRegistrationResult(PasskeyFailure.Rejected);
        }

        if (credential.Id.Length > MaxCredentialIdBytes || credential.PublicKey.Length > MaxPublicKeyBytes)
        {
            return new PasskeyRegistrationResult(PasskeyFailure.Rejected);
        }

        var now = time.UtcNow();
        var factor = new MfaFactor
        {
            Id = Ids.New(), TenantId = tenant.Id, UserId = userId, Type = MfaFactorTypes.WebAuthn, Name = CleanName(name),
            CredentialId = Base64Url.EncodeToString(credential.Id), PublicKey = credential.PublicKey, SignCount = credential.SignCount,
            CreatedAt = now, ConfirmedAt = now,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.MfaFactors.Add(factor);
        audit.RecordAs(SecondFactors.UserActor, userId, "user.mfa_factor_enrolled", "mfa_factor", factor.Id, tenant.Id, ["type"], "Passkey");
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            // The same credential registered by a concurrent request between the check and the insert.
            return new PasskeyRegistrationResult(PasskeyFailure.AlreadyRegistered);
        }

        await factors.SyncMfaEnabledAsync(tenant.Id, userId, ct);
        await transaction.CommitAsync(ct);
        return new PasskeyRegistrationResult(PasskeyFailure.None, factor.Id);
    }

    /// <summary>
    /// Options for signing in with a passkey. Without a user: passwordless, any discoverable passkey of the tenant,
    /// user verification required. With one (a second factor after the password): only that user's passkeys; null
    /// when the user has none.
    /// </summary>
    public async Task<PasskeyCeremony?> BeginAssertionAsync(TenantContext tenant, string? userId, CancellationToken ct)
    {
        IReadOnlyList<PublicKeyCredentialDescriptor> allowed = [];
        if (userId is not null)
        {
            allowed = await CredentialsOfAsync(tenant.Id, userId, ct);
            if (allowed.Count == 0)
            {
                return null;
            }
        }

        var options = Fido(tenant).GetAssertionOptions(new GetAssertionOptionsParams
        {
            AllowedCredentials = allowed,
            UserVerification = userId is null ? UserVerificationRequirement.Required : UserVerificationRequirement.Preferred,
        });
        return await SaveChallengeAsync(tenant.Id, userId, MfaChallengePurposes.WebAuthnAssertion, options.ToJson(), ct);
    }

    /// <summary>
    /// Verifies an answer to <see cref="BeginAssertionAsync"/>: the passkey must be a confirmed one of this tenant,
    /// of <paramref name="expectedUserId"/> when given (and of the user the ceremony was begun for), and its counter
    /// must go up. On success its counter and last use are stored. Starting a session is the caller's part.
    /// </summary>
    public async Task<PasskeyAssertionResult> CompleteAssertionAsync(
        TenantContext tenant, string challengeToken, string assertionResponseJson, string? expectedUserId, CancellationToken ct)
    {
        var challenge = await ClaimAsync(tenant.Id, MfaChallengePurposes.WebAuthnAssertion, challengeToken, ct);
        if (challenge?.Data is null || (expectedUserId is not null && challenge.UserId != expectedUserId))
        {
            return new PasskeyAssertionResult(PasskeyFailure.ChallengeInvalid);
        }

        if (Parse<AuthenticatorAssertionRawResponse>(assertionResponseJson) is not { RawId.Length: > 0 and <= MaxCredentialIdBytes } response)
        {
            return new PasskeyAssertionResult(PasskeyFailure.Malformed);
        }

        var credentialId = Base64Url.EncodeToString(response.RawId);
        var factor = await db.MfaFactors.AsNoTracking()
            .Where(f => f.TenantId == tenant.Id && f.CredentialId == credentialId && f.Type == MfaFactorTypes.WebAuthn && f.ConfirmedAt != null)
            .Select(f => new { f.Id, f.UserId, f.PublicKey, f.SignCount })
            .FirstOrDefaultAsync(ct);
        if (factor?.PublicKey is null)
        {
            return new PasskeyAssertionResult(PasskeyFailure.UnknownCredential);
        }

        var owner = expectedUserId ?? challenge.UserId;
        if (owner is not null && factor.UserId != owner)
        {
            return new PasskeyAssertionResult(PasskeyFailure.WrongUser, factor.UserId);
        }

        var options = AssertionOptions.FromJson(challenge.Data);
        uint signCount;
        try
        {
            var verified = await Fido(tenant).MakeAssertionAsync(new MakeAssertionParams
            {
                AssertionResponse = response,
                OriginalOptions = options,
                StoredPublicKey = factor.PublicKey,
                StoredSignatureCounter = (uint)factor.SignCount,

                // A discoverable credential names its user: it must be the one the passkey was registered for.
                IsUserHandleOwnerOfCredentialIdCallback = (args, _) => Task.FromResult(
                    args.UserHandle.AsSpan().SequenceEqual(UserHandle(factor.UserId)) && args.CredentialId.AsSpan().SequenceEqual(response.RawId)),
            }, ct);
            signCount = verified.SignCount;
        }
        catch (Fido2VerificationException ex) when (ex.Code == Fido2NetLib.Exceptions.Fido2ErrorCode.InvalidSignCount)
        {
            return new PasskeyAssertionResult(PasskeyFailure.CounterNotIncreased, factor.UserId);
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            return new PasskeyAssertionResult(PasskeyFailure.Rejected, factor.UserId);
        }

        // Conditional on the counter read: of two answers racing with one authenticator's counter, one passes.
        var now = time.UtcNow();
        var updated = await db.MfaFactors
            .Where(f => f.Id == factor.Id && f.TenantId == tenant.Id && f.SignCount == factor.SignCount)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.SignCount, (long)signCount).SetProperty(f => f.LastUsedAt, now), ct);
        if (updated != 1)
        {
            return new PasskeyAssertionResult(PasskeyFailure.CounterNotIncreased, factor.UserId);
        }

        // The UV flag of the authenticator data the signature just covered (Fido2 required it when the options did).
        var userVerified = AuthenticatorData.Parse(response.Response.AuthenticatorData).UserVerified;
        return new PasskeyAssertionResult(PasskeyFailure.None, factor.UserId, factor.Id, userVerified);
    }

    /// <summary>The user's passkeys, newest first.</summary>
    public async Task<IReadOnlyList<PasskeySummary>> ListAsync(string tenantId, string userId, CancellationToken ct) =>
        await db.MfaFactors.AsNoTracking()
            .Where(f => f.TenantId == tenantId && f.UserId == userId && f.Type == MfaFactorTypes.WebAuthn && f.ConfirmedAt != null)
            .OrderByDescending(f => f.CreatedAt)
            .Select(f => new PasskeySummary(f.Id, f.Name, f.CreatedAt, f.LastUsedAt))
            .ToListAsync(ct);

    public static string? NameError(string? name) =>
        name is { Length: > MaxNameLength } ? $"Use at most {MaxNameLength} characters for the name." : null;

    private static string CleanName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? DefaultName : name.Trim()[..Math.Min(name.Trim().Length, MaxNameLength)];

    /// <summary>Fido2 for this request's relying party; the tenant's name is what the browser's passkey dialog shows.</summary>
    private Fido2 Fido(TenantContext tenant)
    {
        var http = accessor.HttpContext ?? throw new InvalidOperationException("Passkey ceremonies run inside a request.");
        return new Fido2(relyingParty.For(http.Request, tenant.Name));
    }

    private static byte[] UserHandle(string userId) => Encoding.UTF8.GetBytes(userId);

    private async Task<IReadOnlyList<PublicKeyCredentialDescriptor>> CredentialsOfAsync(string tenantId, string userId, CancellationToken ct)
    {
        var ids = await db.MfaFactors.AsNoTracking()
            .Where(f => f.TenantId == tenantId && f.UserId == userId && f.Type == MfaFactorTypes.WebAuthn && f.ConfirmedAt != null && f.CredentialId != null)
            .Select(f => f.CredentialId!)
            .ToListAsync(ct);
        return [.. ids.Select(id => new PublicKeyCredentialDescriptor(Base64Url.DecodeFromChars(id)))];
    }

    private async Task<PasskeyCeremony> SaveChallengeAsync(string tenantId, string? userId, string purpose, string optionsJson, CancellationToken ct)
    {
        var now = time.UtcNow();

        // Housekeeping: ceremonies that ran out are of no use to anyone (the index on expires_at finds them).
        await db.MfaChallenges
            .Where(c => c.ExpiresAt < now && (c.Purpose == MfaChallengePurposes.WebAuthnRegistration || c.Purpose == MfaChallengePurposes.WebAuthnAssertion))
            .ExecuteDeleteAsync(ct);
        var token = SecretGenerator.Token();
        db.MfaChallenges.Add(new MfaChallenge
        {
            Id = Ids.New(), TenantId = tenantId, UserId = userId, Purpose = purpose, TokenHash = SecretGenerator.Sha256Hex(token),
            Data = optionsJson, CreatedAt = now, ExpiresAt = now + relyingParty.CeremonyLifetime,
        });
        await db.SaveChangesAsync(ct);
        return new PasskeyCeremony(token, optionsJson);
    }

    /// <summary>Uses up a challenge: with a conditional update, so two answers racing for it cannot both get it.</summary>
    private async Task<MfaChallenge?> ClaimAsync(string tenantId, string purpose, string token, CancellationToken ct)
    {
        // Tokens are 43 base64url characters; anything far longer is not worth hashing.
        if (token.Length is 0 or > 256)
        {
            return null;
        }

        var hash = SecretGenerator.Sha256Hex(token);
        var now = time.UtcNow();
        var challenge = await db.MfaChallenges.AsNoTracking()
            .FirstOrDefaultAsync(c => c.TokenHash == hash && c.TenantId == tenantId && c.Purpose == purpose && c.UsedAt == null && c.ExpiresAt > now, ct);
        if (challenge is null)
        {
            return null;
        }

        var claimed = await db.MfaChallenges
            .Where(c => c.Id == challenge.Id && c.TenantId == tenantId && c.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), ct);
        return claimed == 1 ? challenge : null;
    }

    private static T? Parse<T>(string json) where T : class
    {
        if (json.Length is 0 or > MaxResponseChars)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(json);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// The answer is the browser's (or an attacker's) bytes: whatever Fido2 throws while parsing or verifying them
    /// (its own verification error, CBOR, a missing member of the untyped models) refuses the answer, never a 500.
    /// The database's own failures in the uniqueness check are not the answer's fault and propagate.
    /// </summary>
    private static bool IsRefusal(Exception ex) => ex is not (OperationCanceledException or System.Data.Common.DbException);
}
