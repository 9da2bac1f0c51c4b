using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Security;
using ScaiKey.Api.Telemetry;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.SignIn;

/// <summary>Why a sign-in failed (password or second factor): recorded in the audit trail only, never told to the caller.</summary>
internal static class SignInFailureReasons
{
    public const string UnknownEmail = "unknown_email";
    public const string NoPassword = "no_password";
    public const string WrongPassword = "wrong_password";
    public const string Locked = "locked";
    public const string Disabled = "disabled";
    public const string NotActive = "not_active";

    // The right local password of a user who signs in through an identity provider, where the tenant allows none.
    public const string LocalPasswordNotAllowed = "local_password_not_allowed";

    // LDAP-sourced users (the directory checks the password): the entry is gone, the provider is disabled, or the
    // directory did not answer (never recorded as a failure: nothing was checked).
    public const string NotInDirectory = "not_in_directory";
    public const string ProviderDisabled = "identity_provider_disabled";
    public const string DirectoryUnavailable = "directory_unavailable";

    // The second factor after a right password (SecondFactorSignIn): counted toward lockout like a wrong password.
    public const string WrongOtp = "wrong_otp";
    public const string ReplayedOtp = "replayed_otp";
    public const string WrongRecoveryCode = "wrong_recovery_code";

    // Refusals that check nothing and record nothing but the metric (scaikey.signins): the abuse limits, the full
    // hashing queue, and a right password that still needs its second factor.
    public const string RateLimited = "rate_limited";
    public const string Busy = "busy";
    public const string MfaRequired = "mfa_required";
}

/// <summary>
/// What a failed password sign-in leaves behind, in one transaction: the user's failure count (whatever its status,
/// so a locked account's attempts count too), the lock when the count reaches the tenant's limit (sessions revoked,
/// <c>user.locked</c> audited once, the user told by email), and a <c>user.sign_in_failed</c> event with the reason.
/// Every failure does about the same writes, so the answer's timing does not tell a locked account from a wrong
/// password or an unknown email either.
/// </summary>
internal sealed class SignInFailures(
    ScaiKeyDbContext db, AuditLog audit, EmailOutbox outbox, KeyRing keyRing, RevocationCache revocations, ScaiKeyMetrics metrics)
{
    public const string FailedAction = "user.sign_in_failed";

    /// <summary>
    /// Records a failure; <paramref name="user"/> is null for an email no live user of the tenant has.
    /// <paramref name="channel"/>: where it was tried (<see cref="SignInChannels"/>), for the metric only.
    /// </summary>
    public async Task RecordAsync(
        TenantContext tenant, SignInUser? user, string normalizedEmail, string reason, string channel, DateTime now, CancellationToken ct)
    {
        var policy = tenant.Settings.LockoutPolicy;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);

        // A user without a password (invited, federated) has nothing to guess: counting would only let anyone who
        // knows the address lock it. It and an unknown email still run the same statements, matching no row, so
        // every failure costs about the same (the timing must not tell an unknown email either).
        // Likewise a user whose identity provider an admin switched off: no password of theirs is being guessed.
        var countedId = user is not null && reason is not (SignInFailureReasons.NoPassword or SignInFailureReasons.ProviderDisabled) ? user.Id : string.Empty;
        await db.Users.Where(u => u.Id == countedId && u.TenantId == tenant.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.FailedLoginAttempts, u => u.FailedLoginAttempts + 1), ct);
        var locked = policy.MaxFailedAttempts > 0 && await LockAsync(tenant.Id, countedId, policy.MaxFailedAttempts, now, ct);
        if (user is null)
        {
            // No user to target: a keyed hash of the address lets an admin see repeated attempts on one address
            // without the trail holding it (a mistyped password often lands in the email field).
            audit.RecordAs(SignInService.SystemActor, "sign_in", FailedAction, "email", UnknownEmailId(tenant.Id, normalizedEmail), tenant.Id,
                reason: reason);
        }
        else
        {
            audit.RecordAs(SignInService.SystemActor, "sign_in", FailedAction, "user", user.Id, tenant.Id, reason: reason);
            if (locked)
            {
                await SignInService.RevokeSessionsAsync(db, tenant.Id, user.Id, now, "sessions_revoked", exceptSessionId: null, ct);
                audit.RecordAs(SignInService.SystemActor, "lockout", "user.locked", "user", user.Id, tenant.Id, ["status"], "Too many failed sign-in attempts");
                LockedNotice(tenant, user.Principal.Email, now, policy.LockoutDurationMinutes);
            }
        }

        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        metrics.SignInFailed(channel, reason);
        if (locked)
        {
            metrics.Lockout();
            revocations.EvictUser(user!.Id);
        }
    }

    /// <summary>
    /// Locks in a conditional update that only one request can win (the count was raised in this transaction, so
    /// concurrent failures queue on the row), so the lock happens at exactly the configured count and once.
    /// </summary>
    private async Task<bool> LockAsync(string tenantId, string userId, int maxAttempts, DateTime now, CancellationToken ct) =>
        await db.Users
            .Where(u => u.Id == userId && u.TenantId == tenantId && u.Status == UserStatus.Active && u.FailedLoginAttempts >= maxAttempts)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.Status, UserStatus.Locked)
                .SetProperty(u => u.StatusReason, "Too many failed sign-in attempts")
                .SetProperty(u => u.LockedAt, now)
                .SetProperty(u => u.TokensRevokedAt, now)
                .SetProperty(u => u.UpdatedAt, now)
                .SetProperty(u => u.Version, u => u.Version + 1), ct) == 1;

    /// <summary>The user learns of the lock by email (as Keycloak and Auth0 do), never from the sign-in answer.</summary>
    private void LockedNotice(TenantContext tenant, string email, DateTime now, int durationMinutes)
    {
        var until = durationMinutes > 0
            ? $"It unlocks at {now.AddMinutes(durationMinutes).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; after that, sign in with your password as usual."
            : "It stays locked until an administrator unlocks it.";
        outbox.Enqueue(tenant.Id, email, "account_locked", $"Your {tenant.Name} account was locked",
            $"Hello,\n\nYour {tenant.Name} account was locked at {now.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC "
            + $"after too many failed sign-in attempts, and its sessions were signed out.\n{until}\n"
            + "If these attempts were not yours, someone may be guessing your password: choose a new one once you are back in, "
            + "and tell your administrator.\n");
    }

    /// <summary>HMAC-SHA256 of tenant and normalized email under a key of the key ring, 128 bits in hex.</summary>
    private string UnknownEmailId(string tenantId, string normalizedEmail)
    {
        var key = keyRing.DeriveKey("scaikey:audit:unknown-email");
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(tenantId + ":" + normalizedEmail));
        return "hmac:" + Convert.ToHexStringLower(mac.AsSpan(0, 16));
    }
}
