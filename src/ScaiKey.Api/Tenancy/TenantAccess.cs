using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Http;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Tenancy;

/// <summary>The tenant named by the route, after the caller was found allowed to act on it.</summary>
internal sealed record TenantContext(string Id, string? PartnerId, string Slug, string Name, string SettingsJson)
{
    private TenantSettings? _settings;

    public TenantSettings Settings => _settings ??= TenantSettings.FromJson(SettingsJson);
}

/// <summary>
/// The permission an endpoint needs inside the route's tenant; <paramref name="Applications"/> also lets the
/// tenant's own application clients in (the handler then limits them to what is assigned to them).
/// </summary>
internal sealed record RequiredPermission(Permission Permission, bool Applications = false);

internal static class TenantAccess
{
    private const string ItemKey = "scaikey.tenant";

    /// <summary>
    /// A route group under /api/v1/tenants/{tenant_id}: every endpoint in it must declare a permission
    /// (<see cref="Requires"/>), which the tenant policy checks against the route's tenant before the handler runs
    /// (Authorization/TenantPermission.cs). Handlers still filter every query by that tenant id.
    /// </summary>
    public static RouteGroupBuilder MapTenantGroup(this IEndpointRouteBuilder app, string suffix, string tag)
    {
        var group = app.MapGroup("/api/v1/tenants/{tenant_id}" + suffix).WithTags(tag);
        group.RequireAuthorization(ScaiKeyPolicies.Tenant).ValidatesInput();
        return group;
    }

    /// <summary>Recorded by the tenant policy once the caller was found allowed and the tenant exists.</summary>
    internal static void SetTenant(HttpContext http, TenantContext tenant) => http.Items[ItemKey] = tenant;

    public static RouteHandlerBuilder Requires(this RouteHandlerBuilder builder, Permission permission) =>
        builder.WithMetadata(new RequiredPermission(permission));

    /// <summary>Like <see cref="Requires"/>, and the tenant's applications may call it for what is assigned to them.</summary>
    public static RouteHandlerBuilder RequiresOrAssignedApplication(this RouteHandlerBuilder builder, Permission permission) =>
        builder.WithMetadata(new RequiredPermission(permission, Applications: true));

    public static TenantContext Tenant(this HttpContext http) =>
        http.Items[ItemKey] as TenantContext ?? throw new InvalidOperationException("No tenant was resolved for this route.");
}

internal static class TenantLookup
{
    /// <summary>
    /// How long an instance may keep serving a tenant's name, settings or existence after another instance changed
    /// it; the same bound as token revocation (the instance that changes a tenant forgets it at once).
    /// </summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(1);

    private static readonly Func<ScaiKeyDbContext, string, CancellationToken, Task<TenantContext?>> Find =
        EF.CompileAsyncQuery((ScaiKeyDbContext db, string tenantId, CancellationToken ct) =>
            db.Tenants.AsNoTracking()
                .Where(t => t.Id == tenantId && t.DeletedAt == null)
                .Select(t => new TenantContext(t.Id, t.PartnerId, t.Slug, t.Name, t.SettingsJson))
                .FirstOrDefault());

    public static Task<TenantContext?> FindAsync(ScaiKeyDbContext db, string tenantId, CancellationToken ct) => Find(db, tenantId, ct);

    /// <summary>A live tenant by its slug (hosted pages, the command line).</summary>
    public static Task<TenantContext?> FindBySlugAsync(ScaiKeyDbContext db, string slug, CancellationToken ct) =>
        db.Tenants.AsNoTracking()
            .Where(t => t.Slug == slug && t.DeletedAt == null)
            .Select(t => new TenantContext(t.Id, t.PartnerId, t.Slug, t.Name, t.SettingsJson))
            .FirstOrDefaultAsync(ct);

    /// <summary>
    /// The route's tenant for the tenant-scoped API, read at most once a second per instance: every request names
    /// it, and it changes rarely. Unknown ids are not cached, so a new tenant is usable at once everywhere.
    /// </summary>
    public static async Task<TenantContext?> FindCachedAsync(ScaiKeyDbContext db, IMemoryCache cache, string tenantId, CancellationToken ct)
    {
        var key = CacheKey(tenantId);
        if (cache.TryGetValue(key, out TenantContext? cached) && cached is not null)
        {
            return cached;
        }

        var tenant = await Find(db, tenantId, ct);
        if (tenant is not null)
        {
            cache.Set(key, tenant, CacheLifetime);
        }

        return tenant;
    }

    /// <summary>Forgets this instance's copy of a tenant after it was renamed, reconfigured or deleted.</summary>
    public static void Evict(IMemoryCache cache, string tenantId) => cache.Remove(CacheKey(tenantId));

    private static string CacheKey(string tenantId) => "tenant:" + tenantId;
}

internal static class TenantLocks
{
    /// <summary>
    /// Serializes structural edits (OU and group trees) within one tenant: inside a transaction, touching the
    /// tenant row takes its row lock on PostgreSQL, and SQLite's write transactions are serialized already.
    /// Trees must be re-read after this call, so two concurrent moves cannot both pass the cycle check.
    /// </summary>
    public static Task LockTenantAsync(this ScaiKeyDbContext db, string tenantId, CancellationToken ct) =>
        db.Tenants.Where(t => t.Id == tenantId).ExecuteUpdateAsync(s => s.SetProperty(t => t.Slug, t => t.Slug), ct);
}
