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
            users = users.Where(u => u.OuId != null && ouIds.Contains(u.OuId));
        }

        if (filter.GroupIds is { } groupIds)
        {
            users = users.Where(u => db.GroupMembers.Any(m => m.UserId == u.Id && groupIds.Contains(m.GroupId)));
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
    /// Only for the index-backed default sort, narrowed by nothing the counters do not know.
    /// </summary>
    public static async Task<bool> ScanInOrderAsync(
        IQueryable<TenantUserCount> counts, UserListFilter filter, string sortBy, PageRequest paging, int matches, CancellationToken ct)
    {
        if (SearchTerm(filter.Search) is null || sortBy != "created_at" || matches == 0
            || !filter.OnlySearchAndStatus)
        {
            return false;
        }

        var live = await LiveUsersAsync(counts, filter.Status, ct);
        return (double)(paging.Offset + paging.PerPage) * live < (double)matches * matches;
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
        // The ids come from the caller's scoped query, so the second step needs no scope of its own.
        var ids = Sort(users, sortBy, descending).Skip(skip).Take(take).Select(u => u.Id);
        return await project(Sort(db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)), sortBy, descending)).ToListAsync(ct);
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
        "updated_at" => NullsLast(users, u => u.UpdatedAt == null, u => u.UpdatedAt, descending),
        "email" => By(users, u => u.EmailNormalized, descending),
        // Names sort case-insensitively on every provider (SQLite's binary collation would put "Z" before "a").
        "display_name" => NullsLast(users, u => u.DisplayName == null, u => u.DisplayName!.ToLower(), descending),
        "last_name" => NullsLast(users, u => u.LastName == null, u => u.LastName!.ToLower(), descending),
        "last_login_at" => NullsLast(users, u => u.LastLoginAt == null, u => u.LastLoginAt, descending),
        "status" => By(users, u => u.Status, descending),
        _ => By(users, u => u.CreatedAt, descending),
    };

    private static IOrderedQueryable<User> By<TKey>(IQueryable<User> users, Expression<Func<User, TKey>> key, bool descending) =>
        descending
            ? users.OrderByDescending(key).ThenByDescending(u => u.Id)
            : users.OrderBy(key).ThenBy(u => u.Id);

    private static IOrderedQueryable<User> NullsLast<TKey>(
        IQueryable<User> users, Expression<Func<User, bool>> isNull, Expression<Func<User, TKey>> key, bool descending) =>
        descending
            ? users.OrderBy(isNull).ThenByDescending(key).ThenByDescending(u => u.Id)
            : users.OrderBy(isNull).ThenBy(key).ThenBy(u => u.Id);

    public IQueryable<UserListItem> ProjectListItems(IQueryable<User> users) =>
        users.Select(u => new UserListItem(u.Id, u.Email, u.DisplayName, u.Status,
            db.OrganizationalUnits.Where(o => o.Id == u.OuId).Select(o => o.Path).FirstOrDefault(),
            u.IdentitySource, u.MfaEnabled, u.LastLoginAt));

    public IQueryable<AdminUserListItem> ProjectAdminListItems(IQueryable<User> users) =>
        users.Select(u => new AdminUserListItem(u.Id, u.Email, u.DisplayName, u.Status,
            db.OrganizationalUnits.Where(o => o.Id == u.OuId).Select(o => o.Path).FirstOrDefault(),
            u.IdentitySource, u.MfaEnabled, u.LastLoginAt, u.TenantId));
}
