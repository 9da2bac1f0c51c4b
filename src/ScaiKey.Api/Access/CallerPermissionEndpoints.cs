using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Http;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.Access;

[System.ComponentModel.Description("What the caller may do inside a tenant: the permissions its roles grant there; with user_id, what it may do to that user.")]
internal sealed record CallerPermissionsResponse(string TenantId, IReadOnlyList<string> Permissions, string? UserId = null);

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

    // The permissions whose routes also refuse a user holding roles wider than the caller's (CoversTargetUser).
    private static readonly string[] UserChanging = ["users.write", "users.support"];

    private static readonly QueryParameter<string> UserFilter =
        Query.NullableString("user_id", 64, "Narrow the answer to what the caller may do to this user: users.write and users.support are left out "
            + "when the user holds roles beyond the caller's, as the user's routes then refuse.");

    public static void MapCallerPermissions(IEndpointRouteBuilder app)
    {
        // directory.read: every tenant role has it, so anyone with a role in the tenant may ask.
        app.MapTenantGroup("/my-permissions", "Access").MapGet("", ListAsync).WithQuery(UserFilter).Requires(Permission.DirectoryRead)
            .WithSummary("Get My Permissions")
            .WithDescription("The permissions the caller's role assignments grant inside this tenant (users.read, users.write, users.support, "
                + "directory.read, directory.write, audit.read). Informational: every route checks its own permission.")
            .Returns<Http.ApiResponse<CallerPermissionsResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();
    }

    internal sealed record ListQuery(string? UserId) : QueryInput
    {
        public static ValueTask<ListQuery?> BindAsync(HttpContext http) => BindAsync(http, static (h, errors) => new ListQuery(UserFilter.Read(h, errors)));
    }

    private static async Task<IResult> ListAsync(ListQuery query, HttpContext http, [FromServices] Caller caller, [FromServices] ScaiKey.Data.ScaiKeyDbContext db, CancellationToken ct)
    {
        var userId = query.UserId;
        var tenant = http.Tenant();
        var granted = new List<string>();
        foreach (var (permission, name) in Names)
        {
            if (await caller.HasTenantPermissionAsync(tenant.Id, tenant.PartnerId, permission, ct))
            {
                granted.Add(name);
            }
        }

        if (userId is not null)
        {
            if (!await db.Users.AsNoTracking().AnyAsync(u => u.Id == userId && u.TenantId == tenant.Id && u.DeletedAt == null, ct))
            {
                return Errors.Problems.NotFound("User not found.");
            }

            // The same rule the user's routes apply (TargetUserCoverageHandler), so the console hides what they would refuse.
            var grants = await RoleCoverage.GrantsOfAsync(db, PrincipalTypes.User, userId, ct);
            if (!await RoleCoverage.CoversAsync(db, caller, grants, ct))
            {
                granted.RemoveAll(p => UserChanging.Contains(p, StringComparer.Ordinal));
            }
        }

        return TypedResults.Ok(Http.Envelope.Of(http, new CallerPermissionsResponse(tenant.Id, granted, userId)));
    }
}
