using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Security;
using ScaiKey.Api.Users;
using ScaiKey.Data;

namespace ScaiKey.Api.Applications;

internal static class ApplicationAccess
{
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
}
