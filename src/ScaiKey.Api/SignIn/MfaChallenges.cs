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
    [property: JsonPropertyName("enrolled_factor_id")] string? EnrolledFactorId = null)
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
/// Sign-in steps held on the server between the password and the second factor (the hosted pages' step, the
/// password grant's mfa_token, the enrolment a tenant policy requires): five minutes, single use (spent in the
/// session's transaction, SignInStatements), at most
/// <see cref="MaxFailedAttempts"/> wrong codes, and the token that names one stored only as its SHA-256 hash
/// (256 random bits: no offline guessing to slow down).
/// </summary>
internal sealed class MfaChallenges(ScaiKeyDbContext db, TimeProvider time)
{
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
        return token;
    }

    /// <summary>The live step the token names (unused, unexpired, of this purpose), or null.</summary>
    public async Task<MfaChallenge?> FindAsync(string purpose, string? token, CancellationToken ct)
    {
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
        await db.MfaChallenges.Where(c => c.Id == challenge.Id && c.TenantId == challenge.TenantId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.FailedAttempts, c => c.FailedAttempts + 1), ct);
        var left = await db.MfaChallenges.AsNoTracking()
            .Where(c => c.Id == challenge.Id && c.TenantId == challenge.TenantId)
            .Select(c => MaxFailedAttempts - c.FailedAttempts)
            .FirstOrDefaultAsync(ct);
        return left > 0;
    }

    /// <summary>Ends a step without using it (the user can no longer sign in, or walked away from it).</summary>
    public Task EndAsync(MfaChallenge challenge, CancellationToken ct)
    {
        var now = time.UtcNow();
        return db.MfaChallenges.Where(c => c.Id == challenge.Id && c.TenantId == challenge.TenantId && c.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), ct);
    }
}
