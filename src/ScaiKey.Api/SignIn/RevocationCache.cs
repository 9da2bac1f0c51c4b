using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.SignIn;

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

    public void EvictUser(string userId) => _epochs.AddOrUpdate(userId, 1, (_, epoch) => epoch + 1);

    public async Task<bool> IsActiveAsync(ScaiKeyDbContext db, string userId, string sessionId, string grantId, CancellationToken ct)
    {
        var key = $"revocation:{userId}:{_epochs.GetValueOrDefault(userId)}:{sessionId}:{grantId}";
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
