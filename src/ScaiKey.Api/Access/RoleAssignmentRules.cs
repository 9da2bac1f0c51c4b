using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Access;

/// <summary>Who may hold a role: the principal seen by the granting admin, a partner's client within its partner, and at least one platform admin left.</summary>
internal static partial class RoleAssignmentEndpoints
{
    /// <summary>
    /// Users must be live; admin clients must exist. A partner admin may only name users of its partners' tenants
    /// and clients its partners own.
    /// </summary>
    private static async Task<bool> PrincipalVisibleAsync(ScaiKeyDbContext db, AdminScope scope, string type, string id, CancellationToken ct)
    {
        if (type == PrincipalTypes.User)
        {
            var tenantPartner = await db.Users.AsNoTracking().Where(u => u.Id == id && u.DeletedAt == null)
                .Select(u => new { Partner = db.Tenants.Where(t => t.Id == u.TenantId).Select(t => t.PartnerId).FirstOrDefault() })
                .FirstOrDefaultAsync(ct);
            return tenantPartner is not null && scope.Covers(tenantPartner.Partner);
        }

        var client = await db.AdminClients.AsNoTracking().Where(c => c.ClientId == id).Select(c => new { c.PartnerId }).FirstOrDefaultAsync(ct);
        return client is not null && scope.Covers(client.PartnerId);
    }

    private static async Task<bool> WithinOwnerAsync(ScaiKeyDbContext db, RoleAssignmentCreate input, CancellationToken ct)
    {
        var owner = await db.AdminClients.AsNoTracking().Where(c => c.ClientId == input.PrincipalId).Select(c => c.PartnerId).FirstOrDefaultAsync(ct);
        if (owner is null)
        {
            return true;
        }

        return input.Role switch
        {
            Roles.PlatformAdmin => false,
            Roles.PartnerAdmin => input.PartnerId == owner,
            _ => await db.Tenants.AnyAsync(t => t.Id == input.TenantId && t.PartnerId == owner, ct),
        };
    }

    /// <summary>
    /// True when removing these assignments would leave no platform admin. Inside the caller's transaction; the
    /// platform-admin rows are locked on PostgreSQL so two admins cannot remove each other's grant at once.
    /// </summary>
    public static async Task<bool> LastPlatformAdminAsync(ScaiKeyDbContext db, IReadOnlyCollection<string> removing, CancellationToken ct)
    {
        await db.RoleAssignments.Where(r => r.Role == Roles.PlatformAdmin)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Role, r => r.Role), ct);
        return !await db.RoleAssignments.AnyAsync(r => r.Role == Roles.PlatformAdmin && !removing.Contains(r.Id), ct);
    }
}
