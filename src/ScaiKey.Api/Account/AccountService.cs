using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Mfa;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Account;

internal enum PasswordChangeOutcome
{
    Changed,

    // The user was deleted meanwhile (its token would be refused on the next request anyway).
    UserGone,

    // Too many wrong current passwords from this address or on this account in the last minute.
    Limited,
    WrongCurrentPassword,
    PolicyViolations,
    SameAsCurrent,

    // An administrator changed the user between the read and the write.
    Conflict,
}

internal sealed record PasswordChangeResult(PasswordChangeOutcome Outcome, IReadOnlyList<string>? Violations = null, TimeSpan RetryAfter = default);

/// <summary>
/// What the account API (/api/v1/me) and the hosted account page (/t/{slug}/account) share: the user's own password,
/// second factors (through <see cref="SecondFactors"/>), recovery codes and sessions, and the recent-sign-in rule.
/// Every query filters by tenant and user; a factor or session of anybody else does not exist here.
/// </summary>
internal sealed class AccountService(
    ScaiKeyDbContext db, SecondFactors factors, PasswordHasher hasher, HashingGate hashing, AttemptLimiter limiter, AuditLog audit,
    EmailOutbox outbox, RevocationCache revocations, TimeProvider time, IHttpContextAccessor accessor, Users.PasswordChanges passwords)
{
    /// <summary>How recent the session's sign-in (or step-up) must be for a password change or a factor's removal.</summary>
    public static readonly TimeSpan RecentSignIn = TimeSpan.FromMinutes(5);

    /// <summary>Whether the session proved the user within <see cref="RecentSignIn"/> (authenticated_at, else its start).</summary>
    public async Task<bool> IsRecentSignInAsync(string tenantId, string userId, string sessionId, CancellationToken ct)
    {
        var authenticatedAt = await db.UserSessions.AsNoTracking()
            .Where(s => s.Id == sessionId && s.TenantId == tenantId && s.UserId == userId && s.RevokedAt == null)
            .Select(s => (DateTime?)(s.AuthenticatedAt ?? s.CreatedAt))
            .FirstOrDefaultAsync(ct);
        return authenticatedAt is { } at && time.UtcNow() - at <= RecentSignIn;
    }

    public Task<string?> EmailAsync(string tenantId, string userId, CancellationToken ct) =>
        db.Users.AsNoTracking().Where(u => u.Id == userId && u.TenantId == tenantId && u.DeletedAt == null).Select(u => u.Email).FirstOrDefaultAsync(ct);

    /// <summary>
    /// The user changes their own password, proving the current one. Wrong current passwords count against the
    /// sign-in abuse limits (per address and per account), so a stolen token cannot be used to guess it. The user's
    /// other sessions and their tokens end; <paramref name="keepSessionId"/> (the one making the change) stays.
    /// </summary>
    public async Task<PasswordChangeResult> ChangePasswordAsync(
        TenantContext tenant, string userId, string keepSessionId, string currentPassword, string newPassword, CancellationToken ct)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId && u.TenantId == tenant.Id && u.DeletedAt == null, ct);
        if (user is null)
        {
            return new(PasswordChangeOutcome.UserGone);
        }

        using (var attempt = limiter.TryBegin(accessor.HttpContext?.Connection.RemoteIpAddress?.ToString(), tenant.Id, user.Email, out var wait))
        {
            if (attempt is null)
            {
                return new(PasswordChangeOutcome.Limited, RetryAfter: wait);
            }

            var storedHash = user.PasswordHash;
            var correct = storedHash is not null && await hashing.RunAsync(() => hasher.Verify(storedHash, currentPassword), ct);
            if (!correct)
            {
                attempt.Failed();
                return new(PasswordChangeOutcome.WrongCurrentPassword);
            }
        }

        var violations = Users.PasswordChanges.Violations(tenant, user.Email, newPassword);
        if (violations.Count > 0)
        {
            return new(PasswordChangeOutcome.PolicyViolations, violations);
        }

        if (string.Equals(newPassword, currentPassword, StringComparison.Ordinal))
        {
            return new(PasswordChangeOutcome.SameAsCurrent);
        }

        var hash = await passwords.HashAsync(newPassword, ct);
        var now = time.UtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // The user's other sessions end below, this one stays: nothing more for the one password service to end.
            await passwords.StoreAsync(user, hash, Users.PasswordRevocation.None, ct);
            user.RequirePasswordChange = false;
            user.UpdatedAt = now;
            user.Version++;
            await SignInService.RevokeSessionsAsync(db, tenant.Id, user.Id, now, "password_changed", keepSessionId, ct);
            audit.RecordAs(PrincipalTypes.User, user.Id, "user.password_changed", "user", user.Id, tenant.Id,
                ["password", "sessions"], "Changed by the user");
            HostedPages.PasswordChangedNotice(outbox, tenant, user.Email);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                return new(PasswordChangeOutcome.Conflict);
            }

            await transaction.CommitAsync(ct);
        }

        // After the commit, never before: an answer cached in between would otherwise outlive the revocation.
        revocations.EvictUser(user.Id);
        return new(PasswordChangeOutcome.Changed);
    }

    /// <summary>The user's confirmed factors (unfinished enrolments count for nothing and are not listed).</summary>
    public Task<List<MfaFactorResponse>> FactorsAsync(string tenantId, string userId, CancellationToken ct) =>
        db.MfaFactors.AsNoTracking()
            .Where(f => f.TenantId == tenantId && f.UserId == userId && f.ConfirmedAt != null)
            .OrderBy(f => f.CreatedAt).ThenBy(f => f.Id)
            .Select(f => new MfaFactorResponse(f.Id, f.Type, f.Name, f.CreatedAt, f.LastUsedAt))
            .ToListAsync(ct);

    /// <summary>Starts a TOTP enrolment, labelled in the authenticator app with the tenant's name and the user's email.</summary>
    public async Task<TotpEnrolment?> BeginTotpAsync(TenantContext tenant, string userId, string? name, CancellationToken ct) =>
        await EmailAsync(tenant.Id, userId, ct) is { } email
            ? await factors.BeginTotpAsync(tenant.Id, userId, name, tenant.Name, email, ct)
            : null;

    /// <summary>See <see cref="SecondFactors.ConfirmTotpAsync"/>: null no such enrolment, empty a wrong code, else the recovery codes.</summary>
    public Task<IReadOnlyList<string>?> ConfirmTotpAsync(string tenantId, string userId, string factorId, string code, CancellationToken ct) =>
        factors.ConfirmTotpAsync(tenantId, userId, factorId, code, ct);

    /// <summary>A new set of recovery codes, the old set void; null when the user has no confirmed factor to recover.</summary>
    public async Task<IReadOnlyList<string>?> NewRecoveryCodesAsync(string tenantId, string userId, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await factors.HasConfirmedFactorAsync(tenantId, userId, ct))
        {
            return null;
        }

        var codes = await factors.ReplaceRecoveryCodesAsync(tenantId, userId, ct);
        audit.RecordAs(PrincipalTypes.User, userId, "user.mfa_recovery_codes_regenerated", "user", userId, tenantId, ["mfa_recovery_codes"]);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return codes;
    }

    public Task<bool> RemoveFactorAsync(string tenantId, string userId, string factorId, CancellationToken ct) =>
        factors.RemoveFactorAsync(tenantId, userId, factorId, ct);

    /// <summary>The user's sessions that still stand, most recently used first.</summary>
    public Task<List<AccountSessionResponse>> SessionsAsync(string tenantId, string userId, string? currentSessionId, CancellationToken ct) =>
        db.UserSessions.AsNoTracking()
            .Where(s => s.TenantId == tenantId && s.UserId == userId && s.RevokedAt == null)
            .OrderByDescending(s => s.LastSeenAt).ThenByDescending(s => s.CreatedAt)
            .Select(s => new AccountSessionResponse(s.Id, s.CreatedAt, s.LastSeenAt, s.IpAddress, s.UserAgent, s.Id == currentSessionId))
            .ToListAsync(ct);

    /// <summary>
    /// Ends one of the user's sessions and every token grant made in it, in one transaction, so its refresh tokens
    /// fail and its access tokens fail the revocation check at once. False when the user has no such session.
    /// </summary>
    public async Task<bool> EndSessionAsync(string tenantId, string userId, string sessionId, CancellationToken ct)
    {
        var now = time.UtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var ended = await db.UserSessions
                .Where(s => s.Id == sessionId && s.TenantId == tenantId && s.UserId == userId && s.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), ct);
            if (ended == 0)
            {
                return false;
            }

            await db.TokenGrants.Where(g => g.TenantId == tenantId && g.UserId == userId && g.SessionId == sessionId && g.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, "session_ended"), ct);
            audit.RecordAs(PrincipalTypes.User, userId, "user.session_revoked", "user_session", sessionId, tenantId, reason: "Ended by the user");
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        revocations.EvictUser(userId);
        return true;
    }
}
