using ScaiKey.Api.Tenancy;
using ScaiKey.Data;

namespace ScaiKey.Api.Cli;

internal static class CliTenants
{
    /// <summary>A live tenant by id, or else by slug.</summary>
    public static async Task<TenantContext> FindAsync(ScaiKeyDbContext db, string idOrSlug, CancellationToken ct) =>
        await TenantLookup.FindAsync(db, idOrSlug, ct)
        ?? await TenantLookup.FindBySlugAsync(db, idOrSlug, ct)
        ?? throw new CliUsageException($"no tenant with id or slug '{idOrSlug}'.");
}
