using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Groups;
using ScaiKey.Api.Http;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.Sql;

namespace ScaiKey.Api.Users;

/// <summary>The user lists' reads: filter, search, totals, sort, page and projection.</summary>
internal sealed partial class UserReads
{
    /// <summary>
    /// The live users matching the filter, not yet scoped: the caller adds its tenant (or its admin scope).
    /// A search term with a trigram starts from the provider's trigram index, unless <paramref name="searchInOrder"/>
    /// asks for the plain substring test so the list can walk its sort index instead (see ScanInOrderAsync).
    /// </summary>
    public IQueryable<User> Filter(UserListFilter filter, bool searchInOrder = false)
    {
        var term = SearchTerm(filter.Search);
        var sqlite = db.Database.IsSqlite();
        var indexed = term is not null && !searchInOrder && (sqlite ? term.EnumerateRunes().Count() >= 3 : HasTrigram(term));
        var users = !indexed ? db.Users
            : sqlite
                // FTS5 trigram MATCH of a quoted term is a substring match. CROSS JOIN makes SQLite start from the
                // index (it would otherwise guess the tenant index is narrower and probe a million rows).
                ? db.Users.FromSql($"SELECT users.* FROM user_search CROSS JOIN users ON users.rowid = user_search.rowid WHERE user_search MATCH {FtsPhrase(term!)}")
                // The equivalent LIKE, wildcards escaped, answered by the pg_trgm GIN index. OFFSET 0 keeps the
                // planner from merging it into the list query, where its guess of the term's frequency could pick
                // a walk of the sort index instead; we make that choice ourselves, from exact counts.
                : db.Users.FromSql($"SELECT * FROM users WHERE deleted_at IS NULL AND search_text LIKE {"%" + EscapeLike(term!) + "%"} ESCAPE '\\' OFFSET 0");
        users = users.AsNoTracking().Where(u => u.DeletedAt == null);
        if (term is not null && (sqlite || !indexed))
        {
            // The meaning stays instr()/strpos() on the lower-cased text; on SQLite the trigram index only narrows.
            // IndexOf, not Contains: Npgsql writes Contains as LIKE, which the planner may answer from the trigram
            // index after all (sorting every match) when its estimate of a term's frequency is low, undoing the walk
            // ScanInOrderAsync chose from exact counts (22 ms instead of 1 ms for a 1 % term among a million users).
#pragma warning disable CA2249 // Translated to SQL, where the two differ as said above.
            users = users.Where(u => u.SearchText.IndexOf(term) >= 0);
#pragma warning restore CA2249
        }

        if (filter.Status is { } status)
        {
            users = users.Where(u => u.Status == status);
        }

        if (filter.OuIds is { } ouIds)
        {
            // No "ou_id IS NOT NULL" beside the IN list (the ids are never null): on SQLite that range made the planner
            // read every user with an OU through (tenant_id, ou_id) and each row after it (1.9 s to count a division's
            // 100,000 users among a million) instead of probing the partial (tenant_id, ou_id, created_at, id) per id (50 ms).
            // Npgsql, though, writes a bare Contains of a nullable column with an "OR ou_id IS NULL AND array_position(…)"
            // branch that no index answers (7 s), so PostgreSQL keeps the null test.
            users = sqlite ? users.Where(u => ouIds.Contains(u.OuId!)) : users.Where(u => u.OuId != null && ouIds.Contains(u.OuId));
        }

        if (filter.MemberIds is { } memberIds)
        {
            users = users.Where(u => memberIds.Contains(u.Id));
        }
        else if (filter.GroupIds is { } walked && filter.WalkGroup)
        {
            // A correlated probe per user, so the page walks the sort's index and tests membership as it goes: chosen
            // (UserListQuery) when that reads fewer rows than the group's members would.
            users = users.Where(u => db.GroupMembers.Any(m => m.UserId == u.Id && walked.Contains(m.GroupId)));
        }
        else if (filter.GroupIds is { } groupIds)
        {
            // IN, not EXISTS: SQLite runs a correlated EXISTS once per user of the tenant (a million probes to count
            // a group's members); an IN list of the members' ids it builds once and reads users by primary key.
            users = users.Where(u => db.GroupMembers.Where(m => groupIds.Contains(m.GroupId)).Select(m => m.UserId).Contains(u.Id));
        }

        if (filter.MfaEnabled is { } mfa)
        {
            users = users.Where(u => u.MfaEnabled == mfa);
        }

        return users;
    }

    /// <summary>
    /// The exact total of a filtered, scoped list. Narrowed by nothing but status, it is a sum over the
    /// trigger-maintained counters (<paramref name="counts"/>, scoped like <paramref name="users"/>): a few rows
    /// however many users there are. Any other filter counts the matching rows through the filter's index.
    /// </summary>
    public static async Task<int> TotalAsync(
        IQueryable<User> users, IQueryable<TenantUserCount> counts, UserListFilter filter, CancellationToken ct,
        Func<Func<CancellationToken, Task<int>>, Task<int>>? cachedCount = null)
    {
        if (SearchTerm(filter.Search) is null && filter.OnlySearchAndStatus)
        {
            return checked((int)await LiveUsersAsync(counts, filter.Status, ct));
        }

        return cachedCount is null ? await users.CountAsync(ct) : await cachedCount(users.CountAsync);
    }

    /// <summary>
    /// Whether a search page is cheaper walking the default sort's index and testing each row than sorting every
    /// match: with m of n live users matching, the walk reads about (offset + per_page) * n / m rows, the index
    /// path m. A common term's first pages walk; a rare term, or a deep page, goes through the trigram index.
    /// Every sort has its index (a name sort walks its lower(name) index, the users without a name after it), so
    /// any sort may walk; only narrowed by nothing the counters do not know.
    /// </summary>
    public static async Task<bool> ScanInOrderAsync(
        IQueryable<TenantUserCount> counts, UserListFilter filter, string sortBy, PageRequest paging, int matches, CancellationToken ct)
    {
        if (SearchTerm(filter.Search) is null || matches == 0 || !filter.OnlySearchAndStatus)
        {
            return false;
        }

        return await WalkIsCheaperAsync(counts, filter.Status, paging, matches, matches, ct);
    }

    /// <summary>
    /// Whether walking the sort's index and testing each row finds a page in fewer rows than the other path reads:
    /// with <paramref name="matches"/> of the live users (of <paramref name="status"/>, or all) matching, the walk
    /// reads about (offset + per_page) * live / matches rows; the other path <paramref name="otherPathRows"/>.
    /// </summary>
    public static async Task<bool> WalkIsCheaperAsync(
        IQueryable<TenantUserCount> counts, UserStatus? status, PageRequest paging, int matches, long otherPathRows, CancellationToken ct)
    {
        var live = await LiveUsersAsync(counts, status, ct);
        return (double)(paging.Offset + paging.PerPage) * live < (double)matches * otherPathRows;
    }

    /// <summary>Live users in the counters' scope, of one status or all, from the trigger-kept counters.</summary>
    private static Task<long> LiveUsersAsync(IQueryable<TenantUserCount> counts, UserStatus? status, CancellationToken ct) =>
        (status is { } only ? counts.Where(c => c.Status == only) : counts).AsNoTracking().SumAsync(c => c.LiveUsers, ct);

    /// <summary>
    /// One page in two steps: the page's ids, sorted and offset where only the sort's index is read (for the
    /// index-backed sorts an index-only scan, so page 500 does not read 10,000 rows), then those rows projected.
    /// </summary>
    public Task<List<T>> PageAsync<T>(
        IQueryable<User> users, string sortBy, bool descending, PageRequest paging, Func<IQueryable<User>, IQueryable<T>> project,
        CancellationToken ct) =>
        PageAsync(users, sortBy, descending, paging.Offset, paging.PerPage, project, ct);

    /// <summary>As above, from <paramref name="skip"/> rows into <paramref name="users"/> (which may start at a <see cref="PageAnchors"/> anchor).</summary>
    public async Task<List<T>> PageAsync<T>(
        IQueryable<User> users, string sortBy, bool descending, int skip, int take, Func<IQueryable<User>, IQueryable<T>> project,
        CancellationToken ct)
    {
        if (NullableKeys.TryGetValue(sortBy, out var key))
        {
            var pageIds = await NullsLastIdsAsync(users, key, descending, skip, take, ct);
            return await project(Sort(db.Users.AsNoTracking().Where(u => pageIds.Contains(u.Id)), sortBy, descending)).ToListAsync(ct);
        }

        // The ids come from the caller's scoped query, so the second step needs no scope of its own.
        var ids = Sort(users, sortBy, descending).Skip(skip).Take(take).Select(u => u.Id);
        return await project(Sort(db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)), sortBy, descending)).ToListAsync(ct);
    }

    /// <summary>
    /// A page of a nulls-last order as two index walks: the users with a value by (key, id), then those without by
    /// id, from the same index (or, for the names, a partial index of the users without one). One ORDER BY over
    /// both, with its leading "is null" term, matches no index, so every page sorted all of the tenant's users.
    /// The users without a value are only counted when the page starts past the last user with one.
    /// </summary>
    private static async Task<List<string>> NullsLastIdsAsync(
        IQueryable<User> users, NullableKey key, bool descending, int skip, int take, CancellationToken ct)
    {
        var (withValue, without) = key.Split(users, descending);
        var ids = await withValue.Skip(skip).Take(take).Select(u => u.Id).ToListAsync(ct);
        if (ids.Count == take)
        {
            return ids;
        }

        // Fewer than a page: the rows with a value ended inside this page (none are skipped among the rest), or
        // before it (skip past all of them, counted from the index).
        var skipWithout = ids.Count > 0 || skip == 0 ? 0 : skip - await users.Where(key.HasValue).CountAsync(ct);
        ids.AddRange(await without.Skip(skipWithout).Take(take - ids.Count).Select(u => u.Id).ToListAsync(ct));
        return ids;
    }

    /// <summary>
    /// The search term as matched: trimmed, NFC (stored emails are NFC, so a decomposed ü finds a composed one) and
    /// lower-cased like search_text; null when there is none.
    /// </summary>
    internal static string? SearchTerm(string? search) =>
        search is null ? null : EmailAddresses.Nfc(search.Trim()).ToLowerInvariant() is { Length: > 0 } term ? term : null;

    /// <summary>The term as one FTS5 string (a phrase of its trigrams): double quotes doubled, nothing else special.</summary>
    private static string FtsPhrase(string term) => "\"" + term.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string EscapeLike(string term) => term
        .Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("%", "\\%", StringComparison.Ordinal)
        .Replace("_", "\\_", StringComparison.Ordinal);

    /// <summary>
    /// Whether pg_trgm can extract a trigram from the term: it indexes runs of letters and digits only, and a
    /// LIKE pattern without a trigram would make the GIN index scan itself whole. Without one, strpos() it is.
    /// </summary>
    private static bool HasTrigram(string term)
    {
        var run = 0;
        foreach (var c in term)
        {
            run = char.IsLetterOrDigit(c) ? run + 1 : 0;
            if (run >= 3)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Orders by the field, nulls last in either direction, ties broken by id so pages never overlap.</summary>
    public static IOrderedQueryable<User> Sort(IQueryable<User> users, string sortBy, bool descending) => sortBy switch
    {
        "email" => By(users, u => u.EmailNormalized, descending),
        "status" => By(users, u => u.Status, descending),
        _ when NullableKeys.TryGetValue(sortBy, out var key) => key.NullsLast(users, descending),
        _ => By(users, u => u.CreatedAt, descending),
    };

    /// <summary>
    /// The index walks that read a page's ids in this order: one for the non-nullable keys, the part with a value and
    /// the part without for the others (for tests of their query plans).
    /// </summary>
    internal static IReadOnlyList<IOrderedQueryable<User>> PageWalks(IQueryable<User> users, string sortBy, bool descending) =>
        NullableKeys.TryGetValue(sortBy, out var key) && key.Split(users, descending) is var (withValue, without)
            ? [withValue, without]
            : [Sort(users, sortBy, descending)];

    /// <summary>
    /// A nullable sort key: a test for a value that is an index range on the key (for a name, lower(name) &gt;= ''
    /// holds for every name and no NULL, and unlike "name IS NOT NULL" it names the indexed expression), the test
    /// for none, and the key's order (ties by id).
    /// </summary>
    private abstract record NullableKey(Expression<Func<User, bool>> HasValue, Expression<Func<User, bool>> NoValue)
    {
        public abstract IOrderedQueryable<User> Order(IQueryable<User> users, bool descending);

        /// <summary>The two walks of a page: the users with a value in the key's order, then the others by id.</summary>
        public (IOrderedQueryable<User> WithValue, IOrderedQueryable<User> Without) Split(IQueryable<User> users, bool descending)
        {
            var without = users.Where(NoValue);
            return (Order(users.Where(HasValue), descending), descending ? without.OrderByDescending(u => u.Id) : without.OrderBy(u => u.Id));
        }

        /// <summary>The nulls-last order in one ORDER BY: what a page's rows are sorted by once their ids are known.</summary>
        public abstract IOrderedQueryable<User> NullsLast(IQueryable<User> users, bool descending);
    }

    private sealed record NullableKey<TKey>(Expression<Func<User, TKey>> Key, Expression<Func<User, bool>> HasValue, Expression<Func<User, bool>> NoValue)
        : NullableKey(HasValue, NoValue)
    {
        public override IOrderedQueryable<User> Order(IQueryable<User> users, bool descending) => By(users, Key, descending);

        public override IOrderedQueryable<User> NullsLast(IQueryable<User> users, bool descending) =>
            descending
                ? users.OrderBy(NoValue).ThenByDescending(Key).ThenByDescending(u => u.Id)
                : users.OrderBy(NoValue).ThenBy(Key).ThenBy(u => u.Id);
    }

    // Names sort case-insensitively on every provider (SQLite's binary collation would put "Z" before "a"), by the
    // expression the ListSortIndexes migration indexes (NameSortIndexes).
    private static readonly Dictionary<string, NullableKey> NullableKeys = new(StringComparer.Ordinal)
    {
        ["updated_at"] = new NullableKey<DateTime?>(u => u.UpdatedAt, u => u.UpdatedAt != null, u => u.UpdatedAt == null),
        ["display_name"] = new NullableKey<string>(
            u => u.DisplayName!.ToLower(), u => string.Compare(u.DisplayName!.ToLower(), "") >= 0, u => u.DisplayName == null),
        ["last_name"] = new NullableKey<string>(
            u => u.LastName!.ToLower(), u => string.Compare(u.LastName!.ToLower(), "") >= 0, u => u.LastName == null),
        ["last_login_at"] = new NullableKey<DateTime?>(u => u.LastLoginAt, u => u.LastLoginAt != null, u => u.LastLoginAt == null),
    };

    private static IOrderedQueryable<User> By<TKey>(IQueryable<User> users, Expression<Func<User, TKey>> key, bool descending) =>
        descending
            ? users.OrderByDescending(key).ThenByDescending(u => u.Id)
            : users.OrderBy(key).ThenBy(u => u.Id);

    public IQueryable<UserListItem> ProjectListItems(IQueryable<User> users) =>
        users.Select(u => new UserListItem(u.Id, u.Email, u.DisplayName, u.Status,
            db.OrganizationalUnits.Where(o => o.Id == u.OuId).Select(o => o.Path).FirstOrDefault(),
            u.IdentitySource, u.MfaEnabled, u.LastLoginAt));

    public IQueryable<AdminUserListItem> ProjectAdminListItems(IQueryable<User> users) =>
        users.Select(u => new AdminUserListItem(u.Id, u.Email, u.DisplayName, u.Status,
            db.OrganizationalUnits.Where(o => o.Id == u.OuId).Select(o => o.Path).FirstOrDefault(),
            u.IdentitySource, u.MfaEnabled, u.LastLoginAt, u.TenantId));
}
