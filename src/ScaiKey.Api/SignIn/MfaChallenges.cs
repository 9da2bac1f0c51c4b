using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// What a sign-in waiting for its second factor carries over from the password check (MfaChallenge.Data, JSON):
/// where the browser returns, the password re-hash to commit with the session, a pending forced password change,
/// and for the password grant the scopes it asked for.
/// </summary>
internal sealed record PendingSignInData(
    [property: JsonPropertyName("return_url")] string? ReturnUrl = null,
    [property: JsonPropertyName("upgraded_hash")] string? UpgradedHash = null,
    [property: JsonPropertyName("password_change_required")] bool PasswordChangeRequired = false,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string>? Scopes = null,
    [property: JsonPropertyName("enrolled_factor_id")] string? EnrolledFactorId = null,
    [property: JsonPropertyName("pending_link")] PendingFederatedLink? PendingLink = null)
{
    public string Serialize() => JsonSerializer.Serialize(this);

    public static PendingSignInData Read(MfaChallenge challenge)
    {
        try
        {
            return challenge.Data is null ? new() : JsonSerializer.Deserialize<PendingSignInData>(challenge.Data) ?? new();
        }
        catch (JsonException)
        {
            return new();
        }
    }
}

/// <summary>
/// A link to an upstream account that the user confirmed with their password on the link page, written only once the
/// second factor is shown too (a phished password alone must not leave a link behind).
/// </summary>
internal sealed record PendingFederatedLink(
    [property: JsonPropertyName("provider_id")] string ProviderId,
    [property: JsonPropertyName("claims")] Federation.UpstreamClaims Claims);

/// <summary>What a sealed mfa_token carries (see <see cref="MfaChallenges.CreateSealed"/>).</summary>
internal sealed record SealedMfaToken(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("tenant")] string TenantId,
    [property: JsonPropertyName("user")] string UserId,
    [property: JsonPropertyName("client")] string? ClientId,
    [property: JsonPropertyName("expires")] DateTime ExpiresAt,
    [property: JsonPropertyName("data")] string Data);

/// <summary>How the session's transaction spends a sealed step: it writes the step's row as used (see SignInStatements).</summary>
internal sealed record SealedStepSpend(string Purpose, string TokenHash, string? ClientId, DateTime ExpiresAt);

/// <summary>
/// Sign-in steps between the password and the second factor (the hosted pages' step, the password grant's
/// mfa_token, the enrolment a tenant policy requires): five minutes, single use (spent in the session's
/// transaction, SignInStatements), at most <see cref="MaxFailedAttempts"/> wrong codes. The hosted pages' steps are
/// rows named by a random token stored only as its SHA-256 hash (256 random bits: no offline guessing to slow
/// down). The password grant's mfa_token is sealed instead (<see cref="CreateSealed"/>): a machine client's sign-in
/// writes no row for its first request, and the row appears only with the first wrong code or with its use, in the
/// session's own transaction (issue 14's T3 bench: the row's durable insert was a third of what MFA added).
/// </summary>
internal sealed class MfaChallenges(ScaiKeyDbContext db, KeyRing keyRing, TimeProvider time, Telemetry.ScaiKeyMetrics metrics)
{
    private const string SealedPrefix = "mt1.";
    private const string SealContext = "scaikey:mfa_token";

    // The token_hash of a sealed step's row: its id, which cannot be mistaken for a SHA-256 hex digest.
    private const string SealedHashPrefix = "sealed:";

    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    // Wrong codes one step may take before it ends (each also counts toward the account's lockout): a mistyped
    // code or two is retried on the same step, a guesser must start over with the password.
    public const int MaxFailedAttempts = 5;

    /// <summary>Stores a new step and returns its token, which leaves only in the response.</summary>
    public async Task<string> CreateAsync(
        string tenantId, string userId, string purpose, string? clientId, PendingSignInData data, CancellationToken ct)
    {
        var token = SecretGenerator.Token();
        var now = time.UtcNow();
        db.MfaChallenges.Add(new MfaChallenge
        {
            Id = Ids.New(), TenantId = tenantId, UserId = userId, Purpose = purpose, TokenHash = SecretGenerator.Sha256Hex(token),
            ClientId = clientId, Data = data.Serialize(), CreatedAt = now, ExpiresAt = now.Add(Lifetime),
        });
        await db.SaveChangesAsync(ct);

        // A right password that cannot sign in yet: counted like the password grant's mfa_required answer.
        if (purpose is MfaChallengePurposes.HostedSignIn or MfaChallengePurposes.Enrollment)
        {
            metrics.SignInFailed(Telemetry.SignInChannels.Hosted, SignInFailureReasons.MfaRequired);
        }

        return token;
    }

    /// <summary>
    /// A password grant's step as a token sealed by the key ring (AES-GCM under the key-encryption key, bound to its
    /// purpose): the user, the client, the expiry and the carried data, readable by no one but the service, forged
    /// by no one without the key. Nothing is stored: single use and the wrong-code count live in a row written only
    /// when one is counted or the step is used (<see cref="CountFailureAsync"/>, SignInStatements).
    /// </summary>
    public string CreateSealed(string tenantId, string userId, string? clientId, PendingSignInData data)
    {
        var payload = new SealedMfaToken(Ids.New(), tenantId, userId, clientId, time.UtcNow().Add(Lifetime), data.Serialize());
        var sealedValue = keyRing.Seal(JsonSerializer.SerializeToUtf8Bytes(payload), SealContext);
        metrics.SignInFailed(Telemetry.SignInChannels.PasswordGrant, SignInFailureReasons.MfaRequired);
        return SealedPrefix + SecretGenerator.Base64Url(Convert.FromBase64String(sealedValue));
    }

    /// <summary>Whether the step came from a sealed token (its row may not exist yet).</summary>
    public static bool IsSealed(MfaChallenge challenge) => challenge.TokenHash.StartsWith(SealedHashPrefix, StringComparison.Ordinal);

    /// <summary>What the session's transaction needs to write a sealed step's row as used; null for a stored step.</summary>
    public static SealedStepSpend? SpendOf(MfaChallenge challenge) =>
        IsSealed(challenge) ? new SealedStepSpend(challenge.Purpose, challenge.TokenHash, challenge.ClientId, challenge.ExpiresAt) : null;

    /// <summary>The live step the token names (unused, unexpired, of this purpose), or null.</summary>
    public async Task<MfaChallenge?> FindAsync(string purpose, string? token, CancellationToken ct)
    {
        if (purpose == MfaChallengePurposes.PasswordGrant && token is { Length: > 0 and <= 2048 } && token.StartsWith(SealedPrefix, StringComparison.Ordinal))
        {
            return OpenSealed(token);
        }

        // Tokens are 43 base64url characters; anything far longer is not worth hashing.
        if (token is not { Length: > 0 and <= 256 })
        {
            return null;
        }

        var hash = SecretGenerator.Sha256Hex(token);
        var now = time.UtcNow();
        return await db.MfaChallenges.AsNoTracking()
            .FirstOrDefaultAsync(c => c.TokenHash == hash && c.Purpose == purpose && c.UsedAt == null && c.ExpiresAt > now
                && c.FailedAttempts < MaxFailedAttempts, ct);
    }

    /// <summary>
    /// Records on an enrolment step the factor it confirmed: only that factor completes the step (a factor the user
    /// enrolled elsewhere meanwhile must not complete a step someone else holds with the password alone).
    /// </summary>
    public Task RecordEnrolledFactorAsync(MfaChallenge challenge, string factorId, CancellationToken ct)
    {
        var data = (PendingSignInData.Read(challenge) with { EnrolledFactorId = factorId }).Serialize();
        return db.MfaChallenges.Where(c => c.Id == challenge.Id && c.TenantId == challenge.TenantId && c.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Data, data), ct);
    }

    /// <summary>Counts a wrong code on the step; the last one allowed ends it. True while the step can still be used.</summary>
    public async Task<bool> CountFailureAsync(MfaChallenge challenge, CancellationToken ct)
    {
        await EnsureRowAsync(challenge, ct);
        await db.MfaChallenges.Where(c => c.Id == challenge.Id && c.TenantId == challenge.TenantId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.FailedAttempts, c => c.FailedAttempts + 1), ct);
        var left = await db.MfaChallenges.AsNoTracking()
            .Where(c => c.Id == challenge.Id && c.TenantId == challenge.TenantId)
            .Select(c => MaxFailedAttempts - c.FailedAttempts)
            .FirstOrDefaultAsync(ct);
        return left > 0;
    }

    /// <summary>Ends a step without using it (the user can no longer sign in, or walked away from it).</summary>
    public async Task EndAsync(MfaChallenge challenge, CancellationToken ct)
    {
        await EnsureRowAsync(challenge, ct);
        var now = time.UtcNow();
        await db.MfaChallenges.Where(c => c.Id == challenge.Id && c.TenantId == challenge.TenantId && c.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), ct);
    }

    private MfaChallenge? OpenSealed(string token)
    {
        SealedMfaToken? payload;
        try
        {
            var sealedValue = ToBase64(token[SealedPrefix.Length..]);
            payload = JsonSerializer.Deserialize<SealedMfaToken>(keyRing.Open(sealedValue, SealContext));
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException or JsonException or ArgumentException)
        {
            // Not ours, altered, or sealed under another key: as unknown as a random string.
            return null;
        }

        if (payload is null || payload.ExpiresAt <= time.UtcNow())
        {
            return null;
        }

        return new MfaChallenge
        {
            Id = payload.Id, TenantId = payload.TenantId, UserId = payload.UserId, Purpose = MfaChallengePurposes.PasswordGrant,
            TokenHash = SealedHashPrefix + payload.Id, ClientId = payload.ClientId, Data = payload.Data,
            CreatedAt = payload.ExpiresAt - Lifetime, ExpiresAt = payload.ExpiresAt,
        };
    }

    private static string ToBase64(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
    }

    /// <summary>A sealed step's row, written the first time something must be counted or ended on it.</summary>
    private async Task EnsureRowAsync(MfaChallenge challenge, CancellationToken ct)
    {
        if (!IsSealed(challenge) || await db.MfaChallenges.AnyAsync(c => c.Id == challenge.Id, ct))
        {
            return;
        }

        var row = new MfaChallenge
        {
            Id = challenge.Id, TenantId = challenge.TenantId, UserId = challenge.UserId, Purpose = challenge.Purpose,
            TokenHash = challenge.TokenHash, ClientId = challenge.ClientId, CreatedAt = challenge.CreatedAt, ExpiresAt = challenge.ExpiresAt,
        };
        db.MfaChallenges.Add(row);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, out _))
        {
            // A concurrent request wrote it first: the same row, which the caller updates next.
        }
        finally
        {
            db.Entry(row).State = EntityState.Detached;
        }
    }
}
