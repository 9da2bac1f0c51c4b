using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Cli;

internal static class CliTenants
{
    /// <summary>A live tenant by id, or else by slug.</summary>
    public static async Task<TenantContext> FindAsync(ScaiKeyDbContext db, string idOrSlug, CancellationToken ct) =>
        await TenantLookup.FindAsync(db, idOrSlug, ct)
        ?? await db.Tenants.AsNoTracking()
            .Where(t => t.Slug == idOrSlug && t.DeletedAt == null)
            .Select(t => new TenantContext(t.Id, t.PartnerId, t.Slug, t.Name, t.SettingsJson))
            .FirstOrDefaultAsync(ct)
        ?? throw new CliUsageException($"no tenant with id or slug '{idOrSlug}'.");
}
