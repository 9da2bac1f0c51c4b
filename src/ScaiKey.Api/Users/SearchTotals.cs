using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Data;

namespace ScaiKey.Api.Users;

/// <summary>
/// Exact totals of tenant searches, reused while the tenant's directory version (raised by database triggers on
/// every insert, delete and change of a user's search text, status or deletion, whoever writes: this instance,
/// another one, the importer) is unchanged. Counting a common term's matches among a million users costs tens of
/// milliseconds; reading the version costs one primary-key row, and an answer is never stale.
/// </summary>
internal sealed class SearchTotals : IDisposable
{
    public const int Capacity = 10_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity, CompactionPercentage = 0.25 });

    public async Task<int> CountAsync(ScaiKeyDbContext db, string tenantId, UserListFilter filter, Func<CancellationToken, Task<int>> count, CancellationToken ct)
    {
        // Only what the version covers (UserListFilter.OnlySearchAndStatus).
        if (UserReads.SearchTerm(filter.Search) is not { } term || !filter.OnlySearchAndStatus)
        {
            return await count(ct);
        }

        // The version is read before counting: a change committed in between raises it, so the total stored below
        // can only be filed under a version that is already out of date, never a stale total under a current one.
        var version = await DirectoryVersion.ReadAsync(db, tenantId, ct);
        var key = new Key(tenantId, term, filter.Status);
        if (_cache.TryGetValue(key, out Entry? cached) && cached is not null && cached.Version == version)
        {
            return cached.Total;
        }

        var total = await count(ct);
        _cache.Set(key, new Entry(version, total), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) });
        return total;
    }

    public void Dispose() => _cache.Dispose();

    private sealed record Key(string TenantId, string Term, Data.Entities.UserStatus? Status);

    private sealed record Entry(long Version, int Total);
}
