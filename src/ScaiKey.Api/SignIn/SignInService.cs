using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Telemetry;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.Sql;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.SignIn;

internal enum SignInOutcome
{
    Success,

    // Unknown email, no password, a wrong one, or an account that is not ACTIVE (locked, disabled, pending), whatever
    // the password: indistinguishable on purpose, by answer and by work (issue 13, point 5).
    InvalidCredentials,

    // Too many failures from this address or on this account in the last minute: 429, nothing checked.
    Limited,

    // The password hashing queue is full: 503, nothing checked.
    Busy,
}

/// <summary>
/// How and when a session's user authenticated: the session's amr (space-separated, null meaning a password alone)
/// and authenticated_at (the sign-in, or a later step-up).
/// </summary>
internal sealed record SessionAuthentication(string? Amr, DateTime AuthenticatedAt)
{
    public IReadOnlyList<string> Methods =>
        Amr is null ? ["pwd"] : Amr.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>A session <see cref="SignInService.StartSessionAsync"/> committed, with the grant of a password grant.</summary>
internal sealed record StartedSession(string SessionId, string? GrantId, SessionAuthentication Authentication);

internal sealed record SignInResult(SignInOutcome Outcome, string? UserId = null, bool PasswordChangeRequired = false)
{
    public const string InvalidMessage = "Invalid email or password.";

    // A successful check writes nothing yet: the counter reset, last_login_at and any re-hash are committed with
    // the session, so a sign-in costs one write transaction (contention for SQLite's single writer dominated).
    internal string? TenantId { get; init; }

    internal string? UpgradedHash { get; init; }

    /// <summary>What the user's tokens say, read with the password hash, so the password grant needs no second read.</summary>
    internal PrincipalUser? User { get; init; }

    /// <summary>The user has a confirmed second factor: no session until it is shown too.</summary>
    internal bool HasSecondFactor { get; init; }

    /// <summary>For <see cref="SignInOutcome.Limited"/> and <see cref="SignInOutcome.Busy"/>: when to try again.</summary>
    internal TimeSpan RetryAfter { get; init; }

    /// <summary>What a user is told of a failure: never whether the email exists or the account is locked.</summary>
    public string Describe() => InvalidMessage;
}

/// <summary>
/// Password sign-in for the hosted pages and the password grant: abuse limits, credential check with lockout and
/// hash upgrade, sessions and token grants. The claims of the tokens a session then gets are <see cref="TokenPrincipals"/>.
/// </summary>
internal sealed class SignInService(
    ScaiKeyDbContext db, SignInStatements statements, PasswordHasher hasher, HashingGate hashing, AuditLog audit,
    TimeProvider time, RevocationCache revocations, AttemptLimiter limiter, EmailOutbox outbox, KeyRing keyRing,
    IHttpContextAccessor accessor, Federation.Ldap.LdapSignIn ldap, ScaiKeyMetrics metrics)
{
    // How long a caller is asked to wait when the directory of an LDAP-sourced user does not answer.
    private static readonly TimeSpan DirectoryRetryAfter = TimeSpan.FromSeconds(30);

    private static readonly PathString TokenEndpointPath = "/" + OAuthSetup.TokenPath;

    public const string SystemActor = "SYSTEM";

    // Made on use: a primary-constructor parameter may not both initialize a field and be captured.
    private SignInFailures Failures => new(db, audit, outbox, keyRing, revocations, metrics);

    /// <summary>
    /// The password's channel for the metrics: the password grant is a request to the token endpoint, every other
    /// password check (login page, federated link confirmation) a hosted page's.
    /// </summary>
    private string PasswordChannel => accessor.HttpContext?.Request.Path.StartsWithSegments(TokenEndpointPath) == true
        ? SignInChannels.PasswordGrant
        : SignInChannels.Hosted;

    /// <summary>
    /// Checks a password. The abuse limits are consulted first (an attempt over them costs no hash) and only a
    /// failure is counted against them; a full hashing queue refuses at once. Every failure is counted on the
    /// user, audited, and answered alike.
    /// </summary>
    public async Task<SignInResult> CheckPasswordAsync(TenantContext tenant, string email, string password, CancellationToken ct)
    {
        var ip = accessor.HttpContext?.Connection.RemoteIpAddress?.ToString();
        using var attempt = limiter.TryBegin(ip, tenant.Id, email, out var wait);
        if (attempt is null)
        {
            metrics.SignInFailed(PasswordChannel, SignInFailureReasons.RateLimited);
            return new SignInResult(SignInOutcome.Limited) { RetryAfter = wait };
        }

        try
        {
            var result = await CheckAsync(tenant, email, password, ct);
            if (result.Outcome == SignInOutcome.InvalidCredentials)
            {
                attempt.Failed();
            }

            return result;
        }
        catch (HashingQueueFullException full)
        {
            metrics.SignInFailed(PasswordChannel, SignInFailureReasons.Busy);
            return new SignInResult(SignInOutcome.Busy) { RetryAfter = full.RetryAfter };
        }
    }

    private async Task<SignInResult> CheckAsync(TenantContext tenant, string email, string password, CancellationToken ct)
    {
        var normalized = EmailAddresses.Normalize(email);
        var user = await statements.FindUserAsync(db, tenant.Id, normalized, ct);

        // A directory user has no local hash: the directory checks the password (the read above says which user is).
        if (user is { IdentitySource: IdentitySource.Ldap, PasswordHash: null })
        {
            return await CheckDirectoryAsync(tenant, user, normalized, password, ct);
        }

        if (user?.PasswordHash is null)
        {
            await hashing.RunAsync(() => hasher.Verify(hasher.DummyHash, password), ct);
            await Failures.RecordAsync(tenant, user, normalized,
                user is null ? SignInFailureReasons.UnknownEmail : SignInFailureReasons.NoPassword, PasswordChannel, time.UtcNow(), ct);
            return new SignInResult(SignInOutcome.InvalidCredentials);
        }

        // The hash is verified whatever the status, so a locked or disabled account costs the same work as any other.
        var correct = await hashing.RunAsync(() => hasher.Verify(user.PasswordHash, password), ct);
        var policy = tenant.Settings.LockoutPolicy;
        var now = time.UtcNow();
        var lockEnded = user.Status == UserStatus.Locked && policy.LockoutDurationMinutes > 0
            && user.LockedAt is { } lockedAt && lockedAt.AddMinutes(policy.LockoutDurationMinutes) <= now;
        var failure = user.Status switch
        {
            UserStatus.Active => correct ? null : SignInFailureReasons.WrongPassword,
            UserStatus.Locked => correct && lockEnded ? null : SignInFailureReasons.Locked,
            UserStatus.Disabled => SignInFailureReasons.Disabled,
            _ => SignInFailureReasons.NotActive,
        };

        // A federated user's hash from before (a local user later linked and fixed to OIDC, a reset while the tenant
        // allowed it) signs in only while the tenant's federation_policy allows local passwords; LDAP never.
        if (failure is null && !tenant.Settings.AllowsLocalPassword(user.IdentitySource))
        {
            failure = SignInFailureReasons.LocalPasswordNotAllowed;
        }

        if (failure is not null)
        {
            await Failures.RecordAsync(tenant, user, normalized, failure, PasswordChannel, now, ct);
            return new SignInResult(SignInOutcome.InvalidCredentials);
        }

        if (user.Status == UserStatus.Locked)
        {
            await UnlockAfterDurationAsync(tenant.Id, user.Id, user.LockedAt!.Value, now, ct);
        }

        // Parameters may have changed since the hash was made; the password is at hand only now. With the hashing
        // queue full the upgrade waits for a later sign-in rather than refusing this one.
        string? upgraded = null;
        if (hasher.NeedsRehash(user.PasswordHash))
        {
            try
            {
                upgraded = await hashing.RunAsync(() => hasher.Hash(password), ct);
            }
            catch (HashingQueueFullException)
            {
                // Left for a later sign-in: the old hash still verifies.
            }
        }

        return new SignInResult(SignInOutcome.Success, user.Id, user.RequirePasswordChange)
        {
            TenantId = tenant.Id,
            User = user.Principal,
            UpgradedHash = upgraded,
            HasSecondFactor = user.HasSecondFactor,
        };
    }

    /// <summary>
    /// The password check of an LDAP-sourced user: a bind to the directory as the user's entry, with the same status
    /// rules, failure counting and lockout as a local password. A directory that does not answer is a refusal to
    /// try again later (503 / Busy), counted against nobody; a disabled provider refuses like a disabled account.
    /// </summary>
    private async Task<SignInResult> CheckDirectoryAsync(TenantContext tenant, SignInUser user, string normalized, string password, CancellationToken ct)
    {
        var policy = tenant.Settings.LockoutPolicy;
        var now = time.UtcNow();
        var lockEnded = user.Status == UserStatus.Locked && policy.LockoutDurationMinutes > 0
            && user.LockedAt is { } lockedAt && lockedAt.AddMinutes(policy.LockoutDurationMinutes) <= now;
        var failure = user.Status switch
        {
            UserStatus.Active => null,
            UserStatus.Locked => lockEnded ? null : SignInFailureReasons.Locked,
            UserStatus.Disabled => SignInFailureReasons.Disabled,
            _ => SignInFailureReasons.NotActive,
        };
        if (failure is null)
        {
            failure = await ldap.CheckAsync(tenant.Id, user.Id, password, ct) switch
            {
                Federation.Ldap.LdapPasswordCheck.Correct => null,
                Federation.Ldap.LdapPasswordCheck.NotInDirectory => SignInFailureReasons.NotInDirectory,
                Federation.Ldap.LdapPasswordCheck.ProviderDisabled => SignInFailureReasons.ProviderDisabled,
                Federation.Ldap.LdapPasswordCheck.Unavailable => SignInFailureReasons.DirectoryUnavailable,
                _ => SignInFailureReasons.WrongPassword,
            };
        }

        if (failure == SignInFailureReasons.DirectoryUnavailable)
        {
            metrics.SignInFailed(PasswordChannel, failure);
            return new SignInResult(SignInOutcome.Busy) { RetryAfter = DirectoryRetryAfter };
        }

        if (failure is not null)
        {
            await Failures.RecordAsync(tenant, user, normalized, failure, PasswordChannel, now, ct);
            return new SignInResult(SignInOutcome.InvalidCredentials);
        }

        if (user.Status == UserStatus.Locked)
        {
            await UnlockAfterDurationAsync(tenant.Id, user.Id, user.LockedAt!.Value, now, ct);
        }

        return new SignInResult(SignInOutcome.Success, user.Id, PasswordChangeRequired: false)
        {
            TenantId = tenant.Id,
            User = user.Principal,
            HasSecondFactor = user.HasSecondFactor,
        };
    }

    /// <summary>Records a successful password check without a session (the sign-in stops short, e.g. for a forced change).</summary>
    public async Task RecordSuccessAsync(SignInResult result, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await WriteSuccessAsync(result, time.UtcNow(), ct);
        await transaction.CommitAsync(ct);
    }

    private Task<int> WriteSuccessAsync(SignInResult result, DateTime now, CancellationToken ct)
    {
        var upgraded = result.UpgradedHash;

        // For a user with a second factor the password alone is half a sign-in: it must not wipe the failures that
        // wrong codes counted, or password, wrong codes, password... would never reach the lockout.
        var keepFailures = result.HasSecondFactor;
        return db.Users.Where(u => u.Id == result.UserId && u.TenantId == result.TenantId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.FailedLoginAttempts, u => keepFailures ? u.FailedLoginAttempts : 0)
                .SetProperty(u => u.LastLoginAt, now)
                .SetProperty(u => u.PasswordHash, u => upgraded ?? u.PasswordHash), ct);
    }

    private async Task UnlockAfterDurationAsync(string tenantId, string userId, DateTime lockedAt, DateTime now, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var unlocked = await db.Users
            .Where(u => u.Id == userId && u.TenantId == tenantId && u.Status == UserStatus.Locked && u.LockedAt == lockedAt)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.Status, UserStatus.Active)
                .SetProperty(u => u.StatusReason, (string?)null)
                .SetProperty(u => u.LockedAt, (DateTime?)null)
                .SetProperty(u => u.FailedLoginAttempts, 0)
                .SetProperty(u => u.UpdatedAt, now)
                .SetProperty(u => u.Version, u => u.Version + 1), ct);
        if (unlocked == 1)
        {
            audit.RecordAs(SystemActor, "lockout", "user.unlocked", "user", userId, tenantId, ["status"], "Lockout duration elapsed");
            await db.SaveChangesAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    public Task RevokeSessionsAsync(string tenantId, string userId, DateTime now, CancellationToken ct) =>
        RevokeSessionsAsync(db, tenantId, userId, now, "sessions_revoked", exceptSessionId: null, ct);

    /// <summary>
    /// Ends the user's sessions and their token grants (all but <paramref name="exceptSessionId"/>), so refresh tokens
    /// fail and access tokens fail the revocation check. The caller evicts the revocation cache after.
    /// </summary>
    public static async Task RevokeSessionsAsync(
        ScaiKeyDbContext db, string tenantId, string userId, DateTime now, string reason, string? exceptSessionId, CancellationToken ct)
    {
        await db.UserSessions.Where(s => s.TenantId == tenantId && s.UserId == userId && s.Id != exceptSessionId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), ct);
        await db.TokenGrants.Where(g => g.TenantId == tenantId && g.UserId == userId && g.SessionId != exceptSessionId && g.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, reason), ct);
    }

    /// <summary>
    /// A new sign-in session after a successful password check, committed together with the check's outcome
    /// (counter reset, last_login_at, re-hash) and, for the password grant, the token grant: one transaction.
    /// Null when the user was disabled, locked or deleted since the check. <paramref name="amr"/>: how the user
    /// proved who they are (OpenID Connect amr values separated by spaces), kept on the session for its tokens.
    /// <paramref name="challengeId"/>: the pending second-factor step this sign-in completes, used up in the same
    /// transaction (null, and no session, when it was used already or expired); <paramref name="sealedChallenge"/> when
    /// that step is a sealed mfa_token, and <paramref name="totp"/> a TOTP step to claim in the same transaction.
    /// </summary>
    public async Task<StartedSession?> StartSessionAsync(
        SignInResult result, HttpContext http, string? grantClientId, CancellationToken ct, string amr = "pwd", string? challengeId = null,
        SealedStepSpend? sealedChallenge = null, Mfa.TotpClaim? totp = null)
    {
        var userAgent = http.Request.Headers.UserAgent.ToString();
        var session = new NewSession(
            result.TenantId!, result.UserId!, Ids.New(),
            userAgent.Length == 0 ? null : userAgent[..Math.Min(userAgent.Length, 500)],
            http.Connection.RemoteIpAddress?.ToString(), time.UtcNow(), result.UpgradedHash,
            grantClientId is null ? null : Ids.New(), grantClientId, amr, Ids.New(), http.TraceIdentifier, challengeId, sealedChallenge, totp);
        if (!await statements.StartSessionAsync(db, session, ct))
        {
            return null;
        }

        // Every sign-in ends here. A pending step used up is a second factor's; otherwise a client's grant is the
        // password grant's, amr "fed" a federated sign-in's, and the rest the hosted pages' (password or passkey).
        metrics.SignInSucceeded(challengeId is not null ? SignInChannels.Mfa
            : grantClientId is not null ? SignInChannels.PasswordGrant
            : amr == Federation.FederationPages.Amr ? SignInChannels.Federation
            : SignInChannels.Hosted);
        return new StartedSession(session.SessionId, session.GrantId, new SessionAuthentication(amr, session.Now));
    }

    /// <summary>A token chain for one client within a session, before its authorization code is redeemed.</summary>
    public async Task<string> StartGrantAsync(string tenantId, string userId, string sessionId, string clientId, CancellationToken ct)
    {
        var grant = new TokenGrant
        {
            Id = Ids.New(),
            TenantId = tenantId,
            UserId = userId,
            SessionId = sessionId,
            ClientId = clientId,
            CreatedAt = time.UtcNow(),
        };
        db.TokenGrants.Add(grant);
        await db.SaveChangesAsync(ct);
        return grant.Id;
    }
}
