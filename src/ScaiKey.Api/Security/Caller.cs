using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.Abstractions;
using ScaiKey.Data;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Security;

internal enum Permission
{
    UsersRead,
    UsersWrite,

    // Helpdesk actions: unlock, reset password, disable MFA, change status.
    UsersSupport,
    DirectoryRead,
    DirectoryWrite,
    AuditRead,
}

internal static class Roles
{
    public const string PlatformAdmin = "PLATFORM_ADMIN";
    public const string PartnerAdmin = "PARTNER_ADMIN";
    public const string TenantAdmin = "TENANT_ADMIN";
    public const string TenantHelpdesk = "TENANT_HELPDESK";
    public const string TenantViewer = "TENANT_VIEWER";

    public static readonly string[] All = [PlatformAdmin, PartnerAdmin, TenantAdmin, TenantHelpdesk, TenantViewer];

    private static readonly Permission[] Everything = Enum.GetValues<Permission>();

    /// <summary>What a role grants inside a tenant it covers (platform.md, "Who may do what").</summary>
    public static IReadOnlyList<Permission> TenantPermissions(string role) => role switch
    {
        PlatformAdmin or PartnerAdmin or TenantAdmin => Everything,
        TenantHelpdesk => [Permission.UsersRead, Permission.UsersSupport, Permission.DirectoryRead],
        TenantViewer => [Permission.UsersRead, Permission.DirectoryRead],
        _ => [],
    };
}

internal sealed record RoleGrant(string Role, string? PartnerId, string? TenantId);

/// <summary>The tenant application a client_credentials token belongs to.</summary>
internal sealed record ApplicationBinding(string ApplicationId, string TenantId);

/// <summary>
/// The authenticated principal of this request, its role grants and (for application clients) its application,
/// read from the database and briefly cached, so that a revoked role or a deleted client stops working without
/// waiting for token expiry. Changes evict the entry on this instance at once; other instances within the lifetime.
/// </summary>
internal sealed class Caller(IHttpContextAccessor accessor, ScaiKeyDbContext db, IMemoryCache cache)
{
    // One second, like the revocation check (OpenIdConnect/RevocationCache): a role revoked on one instance stops working on
    // the others within a second too. A miss costs two indexed reads per principal per second per instance.
    public static readonly TimeSpan GrantCacheLifetime = TimeSpan.FromSeconds(1);
    private Standing? _standing;

    private sealed record Standing(IReadOnlyList<RoleGrant> Grants, ApplicationBinding? Application);

    private ClaimsPrincipal Principal => accessor.HttpContext?.User ?? new ClaimsPrincipal();

    public string PrincipalType => Principal.GetClaim(ScaiKeyClaims.PrincipalType) ?? "CLIENT";

    public string PrincipalId => Principal.GetClaim(OpenIddictConstants.Claims.Subject) ?? "anonymous";

    public async Task<IReadOnlyList<RoleGrant>> GrantsAsync(CancellationToken cancellationToken = default) =>
        (await StandingAsync(cancellationToken)).Grants;

    /// <summary>The application this caller is a client of, or null for admins (users and admin clients).</summary>
    public async Task<ApplicationBinding?> ApplicationAsync(CancellationToken cancellationToken = default) =>
        (await StandingAsync(cancellationToken)).Application;

    private async Task<Standing> StandingAsync(CancellationToken cancellationToken)
    {
        if (_standing is not null)
        {
            return _standing;
        }

        var key = CacheKey(PrincipalType, PrincipalId);
        if (!cache.TryGetValue(key, out Standing? standing) || standing is null)
        {
            var type = PrincipalType;
            var id = PrincipalId;
            var grants = await db.RoleAssignments.AsNoTracking()
                .Where(r => r.PrincipalType == type && r.PrincipalId == id)
                .Select(r => new RoleGrant(r.Role, r.PartnerId, r.TenantId))
                .ToListAsync(cancellationToken);
            var application = type != PrincipalTypes.Client ? null : await db.Applications.AsNoTracking()
                .Where(a => a.ClientId == id)
                .Select(a => new ApplicationBinding(a.Id, a.TenantId))
                .FirstOrDefaultAsync(cancellationToken);
            standing = new Standing(grants, application);
            cache.Set(key, standing, GrantCacheLifetime);
        }

        return _standing = standing;
    }

    /// <summary>Forgets what this instance cached about a principal, after its grants or its client changed.</summary>
    public static void Evict(IMemoryCache cache, string principalType, string principalId) =>
        cache.Remove(CacheKey(principalType, principalId));

    public static string CacheKey(string principalType, string principalId) => $"grants:{principalType}:{principalId}";

    public async Task<bool> IsPlatformAdminAsync(CancellationToken cancellationToken = default) =>
        (await GrantsAsync(cancellationToken)).Any(g => g.Role == Roles.PlatformAdmin);

    /// <summary>Partners whose tenants this caller administers (null: every partner, a platform admin).</summary>
    public async Task<IReadOnlySet<string>?> AdminPartnerScopeAsync(CancellationToken cancellationToken = default)
    {
        var grants = await GrantsAsync(cancellationToken);
        if (grants.Any(g => g.Role == Roles.PlatformAdmin))
        {
            return null;
        }

        return grants.Where(g => g.Role == Roles.PartnerAdmin && g.PartnerId is not null).Select(g => g.PartnerId!).ToHashSet();
    }

    public async Task<bool> HasTenantPermissionAsync(string tenantId, string? partnerId, Permission permission, CancellationToken cancellationToken = default)
    {
        foreach (var grant in await GrantsAsync(cancellationToken))
        {
            var covers = grant.Role switch
            {
                Roles.PlatformAdmin => true,
                Roles.PartnerAdmin => partnerId is not null && grant.PartnerId == partnerId,
                _ => grant.TenantId == tenantId,
            };
            if (covers && Roles.TenantPermissions(grant.Role).Contains(permission))
            {
                return true;
            }
        }

        return false;
    }
}

internal static class PrincipalTypes
{
    public const string User = "USER";
    public const string Client = "CLIENT";
}

internal static class ScaiKeyClaims
{
    /// <summary>USER or CLIENT: what kind of principal the token's subject is.</summary>
    public const string PrincipalType = "scaikey_pt";

    public const string Audience = "scaikey-api";

    /// <summary>On user tokens: the user's tenant, sign-in session and token grant.</summary>
    public const string TenantId = "scaikey_tid";
    public const string SessionId = "sid";
    public const string GrantId = "scaikey_gid";

    /// <summary>In refresh tokens only: the rotation generation it was issued at.</summary>
    public const string Generation = "scaikey_gen";
}
