using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Groups;
using ScaiKey.Api.Security;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Applications;

internal static class ApplicationAccess
{
    public const string ViaDirect = "DIRECT";
    public const string ViaGroup = "GROUP";

    /// <summary>
    /// True when the user is assigned to the application directly, or through a group it belongs to directly or
    /// inherits (a member of a child group is a member of every ancestor, so an ancestor's assignment covers it).
    /// </summary>
    public static async Task<bool> IsAssignedAsync(ScaiKeyDbContext db, UserReads reads, ApplicationBinding application, string userId, CancellationToken ct)
    {
        var appId = application.ApplicationId;
        var tenantId = application.TenantId;
        if (await db.ApplicationAssignments.AnyAsync(a => a.TenantId == tenantId && a.ApplicationId == appId && a.UserId == userId, ct))
        {
            return true;
        }

        var groupIds = (await reads.GroupsAsync(tenantId, userId, ct)).Select(g => g.GroupId).ToList();
        return groupIds.Count > 0 && await db.ApplicationAssignments.AnyAsync(
            a => a.TenantId == tenantId && a.ApplicationId == appId && a.GroupId != null && groupIds.Contains(a.GroupId), ct);
    }

    /// <summary>
    /// The non-deleted users of the tenant the application covers: assigned directly, or members of an assigned group
    /// or of any group nested below one. Each user once, however many ways it is assigned.
    /// </summary>
    public static async Task<IQueryable<User>> EffectiveUsersAsync(ScaiKeyDbContext db, string tenantId, string applicationId, CancellationToken ct)
    {
        var assignedGroups = await db.ApplicationAssignments.AsNoTracking()
            .Where(a => a.TenantId == tenantId && a.ApplicationId == applicationId && a.GroupId != null)
            .Select(a => a.GroupId!)
            .ToListAsync(ct);
        var coveredGroups = new HashSet<string>(StringComparer.Ordinal);
        if (assignedGroups.Count > 0)
        {
            var nodes = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId)
                .Select(g => new { g.Id, g.ParentGroupId }).ToListAsync(ct);
            var tree = nodes.Select(n => (n.Id, n.ParentGroupId)).ToList();
            foreach (var groupId in assignedGroups)
            {
                coveredGroups.UnionWith(Hierarchy.Subtree(tree, groupId) ?? []);
            }
        }

        var users = db.Users.AsNoTracking().Where(u => u.TenantId == tenantId && u.DeletedAt == null);
        if (coveredGroups.Count == 0)
        {
            return users.Where(u => db.ApplicationAssignments.Any(a => a.ApplicationId == applicationId && a.UserId == u.Id));
        }

        var groupIds = coveredGroups.ToList();
        return users.Where(u => db.ApplicationAssignments.Any(a => a.ApplicationId == applicationId && a.UserId == u.Id)
            || db.GroupMembers.Any(m => m.UserId == u.Id && groupIds.Contains(m.GroupId)));
    }

    /// <summary>
    /// The applications of the tenant a user is assigned to, DIRECT when assigned by user id (even if a group covers it
    /// too), else GROUP; <paramref name="groupIds"/> are the user's groups, direct and inherited.
    /// </summary>
    public static async Task<List<UserApplicationResponse>> UserApplicationsAsync(
        ScaiKeyDbContext db, string tenantId, string userId, IReadOnlyCollection<string> groupIds, CancellationToken ct)
    {
        var groups = groupIds.ToList();
        var rows = await db.Applications.AsNoTracking()
            .Where(a => a.TenantId == tenantId && db.ApplicationAssignments.Any(x => x.ApplicationId == a.Id
                && (x.UserId == userId || (x.GroupId != null && groups.Contains(x.GroupId)))))
            .OrderBy(a => a.Name.ToLower()).ThenBy(a => a.Name).ThenBy(a => a.Id)
            .Select(a => new { a.Id, a.Name, a.Type, Direct = db.ApplicationAssignments.Any(x => x.ApplicationId == a.Id && x.UserId == userId) })
            .ToListAsync(ct);
        return rows.Select(r => new UserApplicationResponse(r.Id, r.Name, r.Type, r.Direct ? ViaDirect : ViaGroup)).ToList();
    }
}
