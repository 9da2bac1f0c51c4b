using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Access;

/// <summary>
/// Nobody may act on a principal holding a role wider than their own: resetting the password of, disabling, or
/// deleting a user who is a platform admin would hand a helpdesk the platform. A caller covers a grant when one of
/// its own grants is at least as wide in the same scope.
/// </summary>
internal static class RoleCoverage
{
    public static async Task<bool> CoversAsync(ScaiKeyDbContext db, Caller caller, IReadOnlyCollection<RoleGrant> target, CancellationToken ct)
    {
        if (target.Count == 0)
        {
            return true;
        }

        var own = await caller.GrantsAsync(ct);
        if (own.Any(g => g.Role == Roles.PlatformAdmin))
        {
            return true;
        }

        var tenantIds = target.Select(g => g.TenantId).OfType<string>().Distinct().ToList();
        var partnerOf = await db.Tenants.AsNoTracking().Where(t => tenantIds.Contains(t.Id))
            .ToDictionaryAsync(t => t.Id, t => t.PartnerId, ct);
        return target.All(g => own.Any(c => Covers(c, g, g.TenantId is null ? null : partnerOf.GetValueOrDefault(g.TenantId))));
    }

    private static bool Covers(RoleGrant mine, RoleGrant theirs, string? theirTenantPartner) => mine.Role switch
    {
        Roles.PlatformAdmin => true,
        Roles.PartnerAdmin => theirs.Role == Roles.PartnerAdmin
            ? theirs.PartnerId == mine.PartnerId
            : theirs.TenantId is not null && theirTenantPartner is not null && theirTenantPartner == mine.PartnerId,
        Roles.TenantAdmin => theirs.TenantId == mine.TenantId && theirs.Role is Roles.TenantAdmin or Roles.TenantHelpdesk or Roles.TenantViewer,
        Roles.TenantHelpdesk => theirs.TenantId == mine.TenantId && theirs.Role is Roles.TenantHelpdesk or Roles.TenantViewer,
        _ => false,
    };

    public static Task<List<RoleGrant>> GrantsOfAsync(ScaiKeyDbContext db, string principalType, string principalId, CancellationToken ct) =>
        db.RoleAssignments.AsNoTracking()
            .Where(r => r.PrincipalType == principalType && r.PrincipalId == principalId)
            .Select(r => new RoleGrant(r.Role, r.PartnerId, r.TenantId))
            .ToListAsync(ct);

    /// <summary>Whether the handler would find the user; if not, its 404 must not be pre-empted by a 403 that reveals it.</summary>
    public static async Task<bool> VisibleAsync(HttpContext http, ScaiKeyDbContext db, Caller caller, string userId)
    {
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId && u.DeletedAt == null)
            .Select(u => new { u.TenantId, Partner = db.Tenants.Where(t => t.Id == u.TenantId).Select(t => t.PartnerId).FirstOrDefault() })
            .FirstOrDefaultAsync(http.RequestAborted);
        if (user is null)
        {
            return false;
        }

        if (http.GetRouteValue("tenant_id") is string tenantId)
        {
            return user.TenantId == tenantId;
        }

        var partners = await caller.AdminPartnerScopeAsync(http.RequestAborted);
        return partners is null || (user.Partner is not null && partners.Contains(user.Partner));
    }
}
