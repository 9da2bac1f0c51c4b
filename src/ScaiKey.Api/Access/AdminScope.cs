using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;

namespace ScaiKey.Api.Access;

/// <summary>
/// What an admin-API caller may reach: null partners means everything (a platform admin); otherwise only the
/// tenants of these partners (a partner admin). Callers with neither role never get this far.
/// </summary>
internal sealed record AdminScope(IReadOnlySet<string>? Partners)
{
    private const string ItemKey = "scaikey.admin-scope";

    public bool IsPlatform => Partners is null;

    public bool Covers(string? partnerId) => Partners is null || (partnerId is not null && Partners.Contains(partnerId));

    /// <summary>Recorded by the admin-scope authorization handler for the endpoint to filter by.</summary>
    public static void Set(HttpContext http, AdminScope scope) => http.Items[ItemKey] = scope;

    public static AdminScope Of(HttpContext http) =>
        http.Items[ItemKey] as AdminScope ?? throw new InvalidOperationException("The admin-scope policy did not run for this route.");

    /// <summary>Whether the tenant lies in scope; a tenant that does not exist lies outside every partner's.</summary>
    public async Task<bool> CoversTenantAsync(ScaiKeyDbContext db, string tenantId, CancellationToken ct) =>
        IsPlatform || Covers(await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => t.PartnerId).FirstOrDefaultAsync(ct));
}
