using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
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
    /// A route group under /api/v1/tenants/{tenant_id}: every endpoint in it must declare a permission, and the
    /// caller's grants are checked against the route's tenant before the handler runs. Handlers still filter every
    /// query by that tenant id.
    /// </summary>
    public static RouteGroupBuilder MapTenantGroup(this IEndpointRouteBuilder app, string suffix, string tag)
    {
        var group = app.MapGroup("/api/v1/tenants/{tenant_id}" + suffix).WithTags(tag);
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var required = http.GetEndpoint()?.Metadata.GetMetadata<RequiredPermission>();
            if (required is null)
            {
                // Fail closed: an endpoint nobody classified is reachable by nobody.
                return Problems.Forbidden();
            }

            var tenantId = http.GetRouteValue("tenant_id") as string ?? string.Empty;
            var db = http.RequestServices.GetRequiredService<ScaiKeyDbContext>();
            var caller = http.RequestServices.GetRequiredService<Caller>();
            var tenant = await TenantLookup.FindAsync(db, tenantId, http.RequestAborted);

            // Checked before existence, so a caller without access cannot probe which tenant ids exist.
            var application = await caller.ApplicationAsync(http.RequestAborted);
            var allowed = application is not null
                ? required.Applications && application.TenantId == tenantId
                : await caller.HasTenantPermissionAsync(tenantId, tenant?.PartnerId, required.Permission, http.RequestAborted);
            if (!allowed)
            {
                return Problems.Forbidden();
            }

            if (tenant is null)
            {
                return Problems.NotFound("Tenant not found.");
            }

            http.Items[ItemKey] = tenant;
            return await next(context);
        });
        return group;
    }

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
    public static Task<TenantContext?> FindAsync(ScaiKeyDbContext db, string tenantId, CancellationToken ct) =>
        db.Tenants.AsNoTracking()
            .Where(t => t.Id == tenantId && t.DeletedAt == null)
            .Select(t => new TenantContext(t.Id, t.PartnerId, t.Slug, t.Name, t.SettingsJson))
            .FirstOrDefaultAsync(ct);
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
