using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>What a new password ends besides itself.</summary>
internal enum PasswordRevocation
{
    /// <summary>Nothing here: the caller ends sessions itself (SCIM, together with a status change).</summary>
    None,

    /// <summary>Every session and every access token issued until now (an administrator's reset).</summary>
    Everywhere,
}

/// <summary>
/// The one way a stored password changes: the tenant's policy, the hash (through the hashing gate, so a burst of
/// changes waits its turn instead of starving sign-ins), the stored hash and its time, and what the change ends.
/// Callers keep their own audit event and notice: those say who changed it and why, which only they know.
/// </summary>
internal sealed class PasswordChanges(ScaiKeyDbContext db, PasswordHasher hasher, HashingGate hashing, TimeProvider time)
{
    /// <summary>Every rule of the tenant's policy the password breaks, in the policy's order; empty when it may be used.</summary>
    public static IReadOnlyList<string> Violations(TenantContext tenant, string email, string password) =>
        PasswordPolicy.Violations(password, email, tenant.Settings.PasswordPolicy).ToList();

    public Task<string> HashAsync(string password, CancellationToken ct) => hashing.RunAsync(() => hasher.Hash(password), ct);

    /// <summary>
    /// Stores <paramref name="hash"/> on the tracked user, inside the caller's transaction; the caller saves, commits
    /// and then evicts the revocation cache (an eviction before the commit let a request in between cache "still
    /// active" again, see docs/decisions.md).
    /// </summary>
    public async Task StoreAsync(User user, string hash, PasswordRevocation revocation, CancellationToken ct)
    {
        var now = time.UtcNow();
        user.PasswordHash = hash;
        user.PasswordChangedAt = now;
        if (revocation == PasswordRevocation.Everywhere)
        {
            user.TokensRevokedAt = now;
            await SignIn.SignInService.RevokeSessionsAsync(db, user.TenantId, user.Id, now, "sessions_revoked", exceptSessionId: null, ct);
        }
    }

    /// <summary>A generated password that meets this tenant's policy, whatever lengths it sets.</summary>
    public static string Temporary(string email, PasswordPolicySettings policy)
    {
        var length = Math.Clamp(Math.Max(20, policy.MinLength), 8, policy.MaxLength);
        string candidate;
        do
        {
            candidate = SecretGenerator.TemporaryPassword(length);
        }
        while (PasswordPolicy.Violations(candidate, email, policy).Any());

        return candidate;
    }
}
