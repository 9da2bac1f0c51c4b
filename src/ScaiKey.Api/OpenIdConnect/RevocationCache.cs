using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// Whether a user's access token still stands: its user ACTIVE and not deleted, its session and token grant not
/// revoked. The answer is read from the shared database and kept for one second, so every instance sees a
/// revocation within that second; the instance that revokes forgets its answers for the user at once.
/// </summary>
internal sealed class RevocationCache(IMemoryCache cache)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    // Bumped on every local revocation; part of the cache key, so stale answers are never read again.
    private readonly ConcurrentDictionary<string, int> _epochs = new(StringComparer.Ordinal);

    // Bumped when many users' grants end at once (an application deleted): every cached answer is dropped.
    private int _globalEpoch;

    /// <summary>Call after the transaction that revoked something of the user has committed, never before or inside it.</summary>
    public void EvictUser(string userId) => _epochs.AddOrUpdate(userId, 1, (_, epoch) => epoch + 1);

    /// <summary>Forgets every answer of this instance (after a commit that revoked the grants of many users).</summary>
    public void EvictAll() => Interlocked.Increment(ref _globalEpoch);

    public async Task<bool> IsActiveAsync(ScaiKeyDbContext db, string userId, string sessionId, string grantId, CancellationToken ct)
    {
        // The epochs are read before the database: an answer read before a commit lands under the old epoch, and the
        // eviction after the commit makes it unreachable (an eviction before the commit would not).
        var key = $"revocation:{Volatile.Read(ref _globalEpoch)}:{userId}:{_epochs.GetValueOrDefault(userId)}:{sessionId}:{grantId}";
        if (cache.TryGetValue(key, out bool active))
        {
            return active;
        }

        active = await db.TokenGrants.AsNoTracking()
            .Where(g => g.Id == grantId && g.UserId == userId && g.SessionId == sessionId && g.RevokedAt == null)
            .AnyAsync(g => db.UserSessions.Any(s => s.Id == sessionId && s.RevokedAt == null)
                && db.Users.Any(u => u.Id == userId && u.DeletedAt == null && u.Status == UserStatus.Active), ct);
        cache.Set(key, active, Lifetime);
        return active;
    }
}
