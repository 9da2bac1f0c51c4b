using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Mfa;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.Sql;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.SignIn;

internal enum SecondFactorStep
{
    // The code was right: complete the sign-in with Amr.
    Accepted,

    // Wrong (or replayed): counted; the same step may be tried again.
    Wrong,

    // Wrong, and it was the step's last allowed attempt, or the user can no longer sign in: start over.
    Ended,

    // The abuse limits (per address, per account) are used up for the minute: nothing was checked.
    Limited,
}

/// <summary>The step's outcome; for Accepted also what the user's tokens say, read with the check (no second read).</summary>
internal sealed record SecondFactorStepResult(
    SecondFactorStep Outcome, string? Amr = null, TimeSpan RetryAfter = default, PrincipalUser? User = null, TotpClaim? Claim = null);

/// <summary>
/// The second half of a sign-in, shared by the hosted pages and the mfa-otp grant: a TOTP or recovery code checked
/// for the user of a pending step. A wrong code is a failed sign-in like a wrong password: it is counted on the
/// user (and locks the account at the tenant's limit, <see cref="SignInFailures"/>), against the abuse limits
/// (<see cref="AttemptLimiter"/>), audited with its reason, and on the step, which ends after
/// <see cref="MfaChallenges.MaxFailedAttempts"/>.
/// </summary>
internal sealed class SecondFactorSignIn(
    ScaiKeyDbContext db, SecondFactorStatements statements, SecondFactors factors, MfaChallenges challenges, AttemptLimiter limiter, AuditLog audit,
    EmailOutbox outbox, KeyRing keyRing, RevocationCache revocations, TimeProvider time, IHttpContextAccessor accessor, Telemetry.ScaiKeyMetrics metrics)
{
    /// <summary>amr of a sign-in completed with a TOTP code (RFC 8176: password, one-time password, multiple factors).</summary>
    public const string TotpAmr = "pwd otp mfa";

    /// <summary>amr of a sign-in completed with a recovery code: two factors, neither of them a device.</summary>
    public const string RecoveryCodeAmr = "pwd mfa";

    /// <summary>
    /// Checks <paramref name="otp"/> (a TOTP code) or else <paramref name="recoveryCode"/> for the step's user. With
    /// <paramref name="deferTotpClaim"/> an accepted TOTP code's step is returned to be claimed in the session's
    /// transaction (<see cref="SecondFactorStepResult.Claim"/>) rather than claimed here.
    /// </summary>
    public async Task<SecondFactorStepResult> CheckAsync(
        TenantContext tenant, MfaChallenge pending, string? otp, string? recoveryCode, CancellationToken ct, bool deferTotpClaim = false)
    {
        var (user, totpFactors) = await statements.ReadAsync(db, tenant.Id, pending.UserId!, ct);
        if (user is null || user.Status != UserStatus.Active)
        {
            // Locked (perhaps by this step's own failures), disabled or deleted meanwhile: the step is over.
            await challenges.EndAsync(pending, ct);
            return new SecondFactorStepResult(SecondFactorStep.Ended);
        }

        var ip = accessor.HttpContext?.Connection.RemoteIpAddress?.ToString();
        using var attempt = limiter.TryBegin(ip, tenant.Id, user.Principal.Email, out var wait);
        if (attempt is null)
        {
            metrics.SignInFailed(Telemetry.SignInChannels.Mfa, SignInFailureReasons.RateLimited);
            return new SecondFactorStepResult(SecondFactorStep.Limited, RetryAfter: wait);
        }

        var useTotp = !string.IsNullOrWhiteSpace(otp);
        var result = useTotp
            ? await factors.VerifyTotpAsync(tenant.Id, totpFactors, otp!, ct, claim: !deferTotpClaim)
            : string.IsNullOrWhiteSpace(recoveryCode) || recoveryCode.Length > 64
                ? new SecondFactorResult(SecondFactorOutcome.Wrong)
                : await factors.UseRecoveryCodeAsync(tenant.Id, user.Id, recoveryCode, ct);
        if (result.Outcome == SecondFactorOutcome.Accepted)
        {
            return new SecondFactorStepResult(SecondFactorStep.Accepted, useTotp ? TotpAmr : RecoveryCodeAmr, User: user.Principal, Claim: result.Claim);
        }

        attempt.Failed();
        var reason = result.Outcome == SecondFactorOutcome.Replayed ? SignInFailureReasons.ReplayedOtp
            : useTotp ? SignInFailureReasons.WrongOtp
            : SignInFailureReasons.WrongRecoveryCode;
        await new SignInFailures(db, audit, outbox, keyRing, revocations, metrics)
            .RecordAsync(tenant, user, EmailAddresses.Normalize(user.Principal.Email), reason, Telemetry.SignInChannels.Mfa, time.UtcNow(), ct);
        var open = await challenges.CountFailureAsync(pending, ct);
        return new SecondFactorStepResult(open ? SecondFactorStep.Wrong : SecondFactorStep.Ended);
    }
}
