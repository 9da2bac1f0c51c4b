using ScaiKey.Api.Authorization;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.Access;

[System.ComponentModel.Description("What the caller may do inside a tenant: the permissions its roles grant there.")]
internal sealed record CallerPermissionsResponse(string TenantId, IReadOnlyList<string> Permissions);

/// <summary>
/// GET /api/v1/tenants/{tenant_id}/my-permissions: lets a client (the console) show only the actions the caller's
/// roles allow. It only describes; every route still checks its own permission.
/// </summary>
internal static class CallerPermissionEndpoints
{
    /// <summary>The names the answer uses, one per <see cref="Permission"/>.</summary>
    public static readonly IReadOnlyDictionary<Permission, string> Names = new Dictionary<Permission, string>
    {
        [Permission.UsersRead] = "users.read",
        [Permission.UsersWrite] = "users.write",
        [Permission.UsersSupport] = "users.support",
        [Permission.DirectoryRead] = "directory.read",
        [Permission.DirectoryWrite] = "directory.write",
        [Permission.AuditRead] = "audit.read",
    };

    public static void MapCallerPermissions(IEndpointRouteBuilder app)
    {
        // directory.read: every tenant role has it, so anyone with a role in the tenant may ask.
        app.MapTenantGroup("/my-permissions", "Access").MapGet("", ListAsync).Requires(Permission.DirectoryRead)
            .WithSummary("Get My Permissions")
            .WithDescription("The permissions the caller's role assignments grant inside this tenant (users.read, users.write, users.support, "
                + "directory.read, directory.write, audit.read). Informational: every route checks its own permission.")
            .Returns<Http.ApiResponse<CallerPermissionsResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();
    }

    private static async Task<IResult> ListAsync(HttpContext http, Caller caller, CancellationToken ct)
    {
        var tenant = http.Tenant();
        var granted = new List<string>();
        foreach (var (permission, name) in Names)
        {
            if (await caller.HasTenantPermissionAsync(tenant.Id, tenant.PartnerId, permission, ct))
            {
                granted.Add(name);
            }
        }

        return TypedResults.Ok(Http.Envelope.Of(http, new CallerPermissionsResponse(tenant.Id, granted)));
    }
}
