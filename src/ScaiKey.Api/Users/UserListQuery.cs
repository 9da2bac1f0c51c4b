using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Data;

namespace ScaiKey.Api.Users;

/// <summary>What a tenant's user list asks for, as bound from the query string.</summary>
internal sealed record UserListRequest(
    string? Search, Data.Entities.UserStatus? Status, string? OuId, string? GroupId, bool? MfaEnabled, string SortBy, bool Descending, PageRequest Paging);

/// <summary>A page of a tenant's user list and the exact total; or, for an ou_id/group_id not in the tenant, the 422 errors.</summary>
internal sealed record UserListPage(List<UserListItem> Items, int Total, ValidationErrors? Errors = null);

/// <summary>
/// A tenant's user list at any size, in one place: the OU and group filters resolved to their subtrees, the exact
/// total (trigger-kept counters when only status narrows it, a cached count for searches, a count otherwise), the
/// choice between the trigram index and an in-order walk of the sort index for a search, a page anchor for deep
/// pages of the default order, and the page read in two steps (ids by the sort's index, then the rows). Each
/// collaborator says why it exists: <see cref="UserReads"/>, <see cref="SearchTotals"/>, <see cref="PageAnchors"/>.
/// </summary>
internal sealed class UserListQuery(ScaiKeyDbContext db, UserReads reads, SearchTotals searchTotals, PageAnchors anchors)
{
    public async Task<UserListPage> RunAsync(string tenantId, UserListRequest request, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var (ouIds, groupIds) = await reads.ResolveTreesAsync(tenantId, request.OuId, request.GroupId, errors, ct);
        if (errors.Any)
        {
            return new UserListPage([], 0, errors);
        }

        // A group's member count (cached under the directory version) decides its path: reading the members of a
        // large group on every request only to find there are too many cost ~150 ms on SQLite.
        var members = groupIds is null ? 0 : await MemberCountAsync(tenantId, groupIds, ct);
        var filter = new UserListFilter(request.Search, request.Status, ouIds, groupIds, request.MfaEnabled)
        {
            // No members: nothing to read (PostgreSQL took 135-150 ms per request to find none, with the tenant's
            // memberships index in its plan).
            MemberIds = groupIds is null || members > MemberListLimit ? null : members == 0 ? [] : await MembersAsync(tenantId, groupIds, ct),
        };
        var users = reads.Filter(filter).Where(u => u.TenantId == tenantId);
        var counts = db.TenantUserCounts.Where(c => c.TenantId == tenantId);
        var total = await TotalAsync(tenantId, filter, users, counts, members, ct);
        if (total == 0 || request.Paging.Offset >= total)
        {
            // Nothing on this page, known from the exact total: a walk looking for matches that do not exist would
            // read every user of the tenant (3.5 s for a combination with none among a million).
            return new UserListPage([], total);
        }

        if (await UserReads.ScanInOrderAsync(counts, filter, request.SortBy, request.Paging, total, ct))
        {
            users = reads.Filter(filter, searchInOrder: true).Where(u => u.TenantId == tenantId);
        }
        else if (groupIds is not null && filter.MemberIds is null
            && await UserReads.WalkIsCheaperAsync(counts, status: null, request.Paging, total, members, ct))
        {
            // A group above MemberListLimit: its first pages walk the sort's index testing membership; a combination
            // that leaves few of its members, or a deep page, reads the members and sorts the matches instead.
            users = reads.Filter(filter with { WalkGroup = true }).Where(u => u.TenantId == tenantId);
        }

        var (from, skip) = await anchors.SeekAsync(db, tenantId, filter, users, request.SortBy, request.Descending, request.Paging.Offset, ct);
        var items = await reads.PageAsync(from, request.SortBy, request.Descending, skip, request.Paging.PerPage, reads.ProjectListItems, ct);
        return new UserListPage(items, total);
    }

    /// <summary>
    /// The exact total, the cheapest way the filter allows. A group filter alone: its members, already counted
    /// (memberships belong to live users only, by the LiveMemberships migration's triggers whoever writes; counting
    /// the group's users among a million instead took up to 2 s on PostgreSQL). <c>mfa_enabled=false</c>, with at most
    /// a status: the live users from the counters less the enrolled ones, counted (in most tenants the few: 12 % of a
    /// million here; a tenant where most are enrolled pays what its <c>mfa_enabled=true</c> list pays). Otherwise a
    /// count; all but the counters' own cached under the directory version.
    /// </summary>
    private async Task<int> TotalAsync(
        string tenantId, UserListFilter filter, IQueryable<Data.Entities.User> users, IQueryable<Data.Entities.TenantUserCount> counts, int members,
        CancellationToken ct)
    {
        if (filter.OnlyGroup)
        {
            return members;
        }

        if (filter.OnlyWithoutMfaAndStatus)
        {
            // One statement, so both parts read the same snapshot.
            var enrolled = reads.Filter(filter with { MfaEnabled = true }).Where(u => u.TenantId == tenantId);
            var live = filter.Status is { } status ? counts.Where(c => c.Status == status) : counts;
            return await searchTotals.CountAsync(db, tenantId, filter, async c => checked((int)await db.Tenants.AsNoTracking()
                .Where(t => t.Id == tenantId).Select(t => live.Sum(x => x.LiveUsers) - enrolled.Count()).FirstAsync(c)), ct);
        }

        return await UserReads.TotalAsync(users, counts, filter, ct, count => searchTotals.CountAsync(db, tenantId, filter, count, ct));
    }

    /// <summary>
    /// The distinct members of the groups, counted from the memberships alone (a soft delete removes a user's
    /// memberships) and cached under the directory version, which every membership change raises: counting 34,000
    /// memberships on every request cost more than the walk it decides on.
    /// </summary>
    private Task<int> MemberCountAsync(string tenantId, IReadOnlyList<string> groupIds, CancellationToken ct) =>
        searchTotals.CountMembersAsync(db, tenantId, groupIds, count => db.GroupMembers.AsNoTracking()
            .Where(m => m.TenantId == tenantId && groupIds.Contains(m.GroupId)).Select(m => m.UserId).Distinct().CountAsync(count), ct);

    /// <summary>The most members a group filter reads before it looks its users up by id.</summary>
    public const int MemberListLimit = 10_000;

    /// <summary>
    /// The distinct members of the groups, or null when there are more than <see cref="MemberListLimit"/>. Left to
    /// itself, PostgreSQL's generic plan walks the tenant's users in the sort order and probes each for membership,
    /// expecting a few percent to match: for a small or empty group that reads every user (22 s for an empty squad
    /// among a million). Reading a small group's members first bounds the page by the group; a large group's walk
    /// finds a page after about n / members rows per row shown, which stays cheap.
    /// </summary>
    private async Task<List<string>?> MembersAsync(string tenantId, IReadOnlyList<string> groupIds, CancellationToken ct)
    {
        var members = await db.GroupMembers.AsNoTracking()
            .Where(m => m.TenantId == tenantId && groupIds.Contains(m.GroupId))
            .Select(m => m.UserId).Distinct().Take(MemberListLimit + 1).ToListAsync(ct);
        return members.Count <= MemberListLimit ? members : null;
    }
}
