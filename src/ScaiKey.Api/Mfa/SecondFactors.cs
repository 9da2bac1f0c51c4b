using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Mfa;

internal enum SecondFactorOutcome
{
    Accepted,

    // Not a code of any confirmed factor now, or a recovery code not in the set (or already used).
    Wrong,

    // A correct TOTP code whose time step was already used: refused like a wrong one, told apart for the audit.
    Replayed,
}

/// <summary>A TOTP enrolment in progress: what the user's authenticator app needs, shown once.</summary>
internal sealed record TotpEnrolment(string FactorId, string Secret, string OtpAuthUri);

/// <summary>What a code proved: the factor it belongs to (null for a recovery code) and the amr value it stands for.</summary>
internal sealed record SecondFactorResult(SecondFactorOutcome Outcome, string? FactorId = null, string? Amr = null, TotpClaim? Claim = null);

/// <summary>A TOTP code's time step, to be claimed on its factor by the session's own transaction (SignInStatements).</summary>
internal sealed record TotpClaim(string FactorId, long Step);

/// <summary>
/// The state of a user's second factors that sign-in, the account API and the admin API share: which factors count
/// (confirmed only), checking a TOTP or recovery code exactly once, and keeping users.mfa_enabled equal to "has a
/// confirmed factor". Every query filters by tenant.
/// </summary>
internal sealed class SecondFactors(ScaiKeyDbContext db, KeyRing keyRing, TimeProvider time, AuditLog audit)
{
    public const string UserActor = "USER";

    public static string SealContext(string factorId) => "mfa_factor:" + factorId;

    public Task<bool> HasConfirmedFactorAsync(string tenantId, string userId, CancellationToken ct) =>
        db.MfaFactors.AsNoTracking().AnyAsync(f => f.TenantId == tenantId && f.UserId == userId && f.ConfirmedAt != null, ct);

    /// <summary>
    /// Checks a TOTP code against the user's confirmed TOTP factors. The step is claimed with a conditional update,
    /// so two requests racing with one code cannot both pass. With <paramref name="claim"/> false the caller claims
    /// it instead, in the transaction that uses the code (the mfa-otp grant's session: <see cref="SecondFactorResult.Claim"/>),
    /// where a lost race means no session; a step already used is refused here either way.
    /// </summary>
    public async Task<SecondFactorResult> VerifyTotpAsync(string tenantId, string userId, string code, CancellationToken ct, bool claim = true)
    {
        var factors = await db.MfaFactors.AsNoTracking()
            .Where(f => f.TenantId == tenantId && f.UserId == userId && f.Type == MfaFactorTypes.Totp && f.ConfirmedAt != null && f.SecretEncrypted != null)
            .Select(f => new Sql.TotpFactorRow(f.Id, f.SecretEncrypted!, f.LastUsedStep))
            .ToListAsync(ct);
        return await VerifyTotpAsync(tenantId, factors, code, ct, claim);
    }

    /// <summary>The same check on factors the caller has read already (<see cref="Sql.SecondFactorStatements"/>).</summary>
    public async Task<SecondFactorResult> VerifyTotpAsync(
        string tenantId, IReadOnlyList<Sql.TotpFactorRow> factors, string code, CancellationToken ct, bool claim = true)
    {
        var now = time.UtcNow();
        var replayed = false;
        foreach (var factor in factors)
        {
            var secret = keyRing.Open(factor.SecretEncrypted, SealContext(factor.Id));
            if (TotpCodes.MatchStep(secret, code, now) is not { } step)
            {
                continue;
            }

            if (!claim)
            {
                if (factor.LastUsedStep is null || factor.LastUsedStep < step)
                {
                    return new SecondFactorResult(SecondFactorOutcome.Accepted, factor.Id, "otp", new TotpClaim(factor.Id, step));
                }

                replayed = true;
                continue;
            }

            var claimed = await db.MfaFactors
                .Where(f => f.Id == factor.Id && f.TenantId == tenantId && (f.LastUsedStep == null || f.LastUsedStep < step))
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.LastUsedStep, step).SetProperty(f => f.LastUsedAt, now), ct);
            if (claimed == 1)
            {
                return new SecondFactorResult(SecondFactorOutcome.Accepted, factor.Id, "otp");
            }

            replayed = true;
        }

        return new SecondFactorResult(replayed ? SecondFactorOutcome.Replayed : SecondFactorOutcome.Wrong);
    }

    /// <summary>Uses up one recovery code, atomically: a code works once, whoever races with it.</summary>
    public async Task<SecondFactorResult> UseRecoveryCodeAsync(string tenantId, string userId, string code, CancellationToken ct)
    {
        var hash = RecoveryCodes.Hash(code);
        var used = await db.MfaRecoveryCodes
            .Where(r => r.TenantId == tenantId && r.UserId == userId && r.CodeHash == hash && r.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.UsedAt, time.UtcNow()), ct);
        if (used != 1)
        {
            return new SecondFactorResult(SecondFactorOutcome.Wrong);
        }

        audit.RecordAs(UserActor, userId, "user.mfa_recovery_code_used", "user", userId, tenantId);
        await db.SaveChangesAsync(ct);
        return new SecondFactorResult(SecondFactorOutcome.Accepted, null, "mfa");
    }

    /// <summary>
    /// Starts a TOTP enrolment: an unconfirmed factor with a new secret (sealed at rest), which counts for nothing
    /// until <see cref="ConfirmTotpAsync"/> sees a code from it. Earlier unfinished enrolments of the user are dropped.
    /// </summary>
    public async Task<TotpEnrolment> BeginTotpAsync(string tenantId, string userId, string? name, string issuer, string account, CancellationToken ct)
    {
        await db.MfaFactors.Where(f => f.TenantId == tenantId && f.UserId == userId && f.Type == MfaFactorTypes.Totp && f.ConfirmedAt == null)
            .ExecuteDeleteAsync(ct);
        var secret = TotpCodes.NewSecret();
        var id = Ids.New();
        db.MfaFactors.Add(new MfaFactor
        {
            Id = id, TenantId = tenantId, UserId = userId, Type = MfaFactorTypes.Totp, Name = name,
            SecretEncrypted = keyRing.Seal(secret, SealContext(id)), CreatedAt = time.UtcNow(),
        });
        await db.SaveChangesAsync(ct);
        return new TotpEnrolment(id, TotpCodes.Base32(secret), TotpCodes.OtpAuthUri(issuer, account, secret));
    }

    /// <summary>
    /// Confirms an enrolment with a code from the authenticator: the factor starts to count, mfa_enabled follows,
    /// and a new set of recovery codes is made (returned once). Null when the factor is not an unconfirmed TOTP
    /// factor of this user; an empty list when the code is wrong.
    /// </summary>
    public async Task<IReadOnlyList<string>?> ConfirmTotpAsync(string tenantId, string userId, string factorId, string code, CancellationToken ct)
    {
        var factor = await db.MfaFactors
            .FirstOrDefaultAsync(f => f.Id == factorId && f.TenantId == tenantId && f.UserId == userId && f.Type == MfaFactorTypes.Totp && f.ConfirmedAt == null, ct);
        if (factor?.SecretEncrypted is null)
        {
            return null;
        }

        var now = time.UtcNow();
        if (TotpCodes.MatchStep(keyRing.Open(factor.SecretEncrypted, SealContext(factor.Id)), code, now) is not { } step)
        {
            return [];
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        factor.ConfirmedAt = now;
        factor.LastUsedAt = now;

        // The code that confirmed the factor is spent: it cannot also pass a sign-in.
        factor.LastUsedStep = step;
        audit.RecordAs(UserActor, userId, "user.mfa_factor_enrolled", "mfa_factor", factor.Id, tenantId, ["type"]);
        await db.SaveChangesAsync(ct);
        var codes = await ReplaceRecoveryCodesAsync(tenantId, userId, ct);
        await SyncMfaEnabledAsync(tenantId, userId, ct);
        await transaction.CommitAsync(ct);
        return codes;
    }

    /// <summary>
    /// Removes one factor of the user. With no confirmed factor left the recovery codes go too (they recover
    /// nothing) and mfa_enabled turns false. False when the user has no such factor.
    /// </summary>
    public async Task<bool> RemoveFactorAsync(string tenantId, string userId, string factorId, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var removed = await db.MfaFactors.Where(f => f.Id == factorId && f.TenantId == tenantId && f.UserId == userId).ExecuteDeleteAsync(ct);
        if (removed == 0)
        {
            return false;
        }

        if (!await HasConfirmedFactorAsync(tenantId, userId, ct))
        {
            await db.MfaRecoveryCodes.Where(r => r.TenantId == tenantId && r.UserId == userId).ExecuteDeleteAsync(ct);
        }

        await SyncMfaEnabledAsync(tenantId, userId, ct);
        audit.RecordAs(UserActor, userId, "user.mfa_factor_removed", "mfa_factor", factorId, tenantId);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>A new set of recovery codes; the old set stops working. Returns the codes, which are never stored.</summary>
    public async Task<IReadOnlyList<string>> ReplaceRecoveryCodesAsync(string tenantId, string userId, CancellationToken ct)
    {
        var codes = RecoveryCodes.NewSet();
        var now = time.UtcNow();
        await db.MfaRecoveryCodes.Where(r => r.TenantId == tenantId && r.UserId == userId).ExecuteDeleteAsync(ct);
        db.MfaRecoveryCodes.AddRange(codes.Select(c => new MfaRecoveryCode
        {
            Id = Ids.New(), TenantId = tenantId, UserId = userId, CodeHash = RecoveryCodes.Hash(c), CreatedAt = now,
        }));
        await db.SaveChangesAsync(ct);
        return codes;
    }

    /// <summary>
    /// Sets users.mfa_enabled to whether a confirmed factor exists, bumping the version only when it changes (the
    /// user's representation, and so its ETag, changes with it). Call inside the transaction that changed factors.
    /// </summary>
    public async Task SyncMfaEnabledAsync(string tenantId, string userId, CancellationToken ct)
    {
        var enabled = await HasConfirmedFactorAsync(tenantId, userId, ct);
        await db.Users.Where(u => u.Id == userId && u.TenantId == tenantId && u.MfaEnabled != enabled)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.MfaEnabled, enabled)
                .SetProperty(u => u.UpdatedAt, time.UtcNow())
                .SetProperty(u => u.Version, u => u.Version + 1), ct);
    }
}
