using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.EntityFrameworkCore.Models;
using ScaiKey.Data;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// Whether an OAuth client is still registered, for the client-credential tokens it holds: deleting an application
/// or an admin client ends its tokens at once rather than when they expire. The answer is read from the shared
/// database and kept for one second, like <see cref="RevocationCache"/>; the deleting instance forgets its answers
/// after its commit.
/// </summary>
internal sealed class ClientRegistrationCache(IMemoryCache cache)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    // Part of every key and bumped by each local delete: answers cached before it are never read again. One epoch for
    // all clients, since deletes are rare and a miss costs one indexed read.
    private int _epoch;

    /// <summary>Call after the transaction that deleted a client has committed, never before (see docs/decisions.md).</summary>
    public void Evict() => Interlocked.Increment(ref _epoch);

    /// <summary>The database is resolved only on a miss: the hot path of client-credential calls builds no context.</summary>
    public async ValueTask<bool> ExistsAsync(IServiceProvider services, string clientId, CancellationToken ct)
    {
        // The epoch is read before the database: an answer read before a commit is stored under the old epoch.
        var key = $"client-registered:{Volatile.Read(ref _epoch)}:{clientId}";
        if (cache.TryGetValue(key, out bool exists))
        {
            return exists;
        }

        var db = services.GetRequiredService<ScaiKeyDbContext>();
        exists = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking().AnyAsync(a => a.ClientId == clientId, ct);

        // Only validly signed tokens get here, so nobody can fill the cache with made-up client ids.
        cache.Set(key, exists, Lifetime);
        return exists;
    }
}
