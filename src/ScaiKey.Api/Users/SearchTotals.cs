using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Data;

namespace ScaiKey.Api.Users;

/// <summary>
/// Exact totals of filtered tenant lists (a search, an OU, group or MFA filter, and their combinations), reused while
/// the tenant's directory version is unchanged. Database triggers raise it on every insert and delete of a user, on
/// changes of a user's search text, status, deletion, tenant, OU or MFA enrolment, and on every change of a group
/// membership, whoever writes (this instance, another one, the importer); the OU and group subtrees are part of the
/// key as resolved, so a move in a tree is a new key. Counting a common term's matches, a division's users or the
/// 88 % without MFA among a million users costs tens to hundreds of milliseconds; reading the version costs one
/// primary-key row, and an answer is never stale.
/// </summary>
internal sealed class SearchTotals : IDisposable
{
    public const int Capacity = 10_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity, CompactionPercentage = 0.25 });

    public Task<int> CountAsync(ScaiKeyDbContext db, string tenantId, UserListFilter filter, Func<CancellationToken, Task<int>> count, CancellationToken ct) =>
        CountAsync(db, tenantId, new Key(tenantId, filter.Key(UserReads.SearchTerm(filter.Search))), count, ct);

    /// <summary>The distinct members of a group subtree (UserListQuery's choice of path), under a key of its own.</summary>
    public Task<int> CountMembersAsync(ScaiKeyDbContext db, string tenantId, IReadOnlyList<string> groupIds, Func<CancellationToken, Task<int>> count, CancellationToken ct) =>
        CountAsync(db, tenantId, new MembersKey(tenantId, string.Join('\n', groupIds.Order(StringComparer.Ordinal))), count, ct);

    private async Task<int> CountAsync(ScaiKeyDbContext db, string tenantId, object key, Func<CancellationToken, Task<int>> count, CancellationToken ct)
    {
        // The version is read before counting: a change committed in between raises it, so the total stored below
        // can only be filed under a version that is already out of date, never a stale total under a current one.
        var version = await DirectoryVersion.ReadAsync(db, tenantId, ct);
        if (_cache.TryGetValue(key, out Entry? cached) && cached is not null && cached.Version == version)
        {
            return cached.Total;
        }

        var total = await count(ct);
        _cache.Set(key, new Entry(version, total), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) });
        return total;
    }

    public void Dispose() => _cache.Dispose();

    private sealed record Key(string TenantId, UserListFilterKey Filter);

    private sealed record MembersKey(string TenantId, string GroupIds);

    private sealed record Entry(long Version, int Total);
}
