using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tenancy;

/// <summary>
/// A tenant's ETag: its last change time in microseconds (the precision PostgreSQL stores), or its creation time when
/// it never changed. Tenants have no version column; every write sets updated_at (whole microseconds, see
/// Ids.UtcNow), which is enough to tell an edit based on an older read from one based on the current state.
/// </summary>
internal static class TenantVersions
{
    public static string For(Tenant tenant) => $"\"t{Microseconds(tenant.UpdatedAt ?? tenant.CreatedAt)}\"";

    public static void Set(HttpResponse response, Tenant tenant) => response.Headers.ETag = For(tenant);

    /// <summary>True when If-Match is absent, "*", or names the tenant's current ETag.</summary>
    public static bool IfMatchAllows(HttpRequest request, Tenant tenant) => Http.ETags.IfMatchAllows(request, For(tenant));

    /// <summary>Moves the stored version from <paramref name="read"/> to <paramref name="next"/>; false when another write came first.</summary>
    public static async Task<bool> ClaimAsync(ScaiKeyDbContext db, string tenantId, DateTime? read, DateTime next, CancellationToken ct) =>
        await db.Tenants.Where(t => t.Id == tenantId && t.UpdatedAt == read).ExecuteUpdateAsync(x => x.SetProperty(t => t.UpdatedAt, next), ct) == 1;

    private static long Microseconds(DateTime value) => value.Ticks / 10;
}
