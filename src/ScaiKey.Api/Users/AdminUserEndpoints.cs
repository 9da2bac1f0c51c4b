using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Access;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.IdentityProviders;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;

namespace ScaiKey.Api.Users;

/// <summary>
/// Cross-tenant user administration: /api/v1/admin/users. Platform admins see every tenant; partner admins
/// only their partner's tenants (a user elsewhere is a 404, a filter elsewhere a 403).
/// </summary>
internal static class AdminUserEndpoints
{
    private static readonly QueryParameter<string> Status = Query.NullableString("status", 64);
    private static readonly QueryParameter<string> TenantId = Query.NullableString("tenant_id", 64);
    private static readonly QueryParameter<string> PartnerId = Query.NullableString("partner_id", 64, "Filter by partner (all tenants in partner)");
    private static readonly string[] StatusValues = Choices.Of<Data.Entities.UserStatus>();

    public static RouteGroupBuilder MapAdminUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/users").WithTags("Users");
        group.RequireAuthorization(ScaiKeyPolicies.AdminScope).ValidatesInput();

        group.MapGet("/", ListAsync)
            .WithSummary("List Users").WithDescription("List users with filtering.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter, UserEndpoints.Search, Status, TenantId, PartnerId)
            .Returns<PaginatedResponse<AdminUserListItem>>().DocumentsAuthorizationHeader();

        group.MapPost("/", CreateAsync)
            .WithSummary("Create User").WithDescription("Create a new user.")
            .AcceptsJson<AdminUserCreate>().Returns<ApiResponse<AdminUserResponse>>(StatusCodes.Status201Created)
            .ReturnsProblems(409, 413).DocumentsAuthorizationHeader();

        // Declared before the /{user_id} routes, as in the reference.
        group.MapGet("/identity-source/mismatches", IdentitySourceMismatchesAsync)
            .WithSummary("Get Identity Source Mismatches").WithDescription(IdentitySourceMismatches.Description)
            .WithQuery(TenantId, IdentitySourceMismatches.Fix)
            .Returns<IdentitySourceMismatchesResponse>().ReturnsProblems(409).DocumentsAuthorizationHeader();

        group.MapDelete("/{user_id}", DeleteAsync).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Delete User").WithDescription("Soft delete a user.")
            .ReturnsNoContent().ReturnsProblems(404, 412).DocumentsAuthorizationHeader();

        group.MapGet("/{user_id}", GetAsync)
            .WithSummary("Get User").WithDescription("Get a user by ID.")
            .Returns<ApiResponse<AdminUserResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();

        group.MapPatch("/{user_id}", UpdateAsync).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Update User").WithDescription("Update a user.")
            .AcceptsJson<UserUpdate>().Returns<ApiResponse<AdminUserResponse>>().ReturnsProblems(404, 409, 412, 413).DocumentsAuthorizationHeader();

        group.MapGet("/{user_id}/groups", GroupsAsync)
            .WithSummary("Get User Groups").WithDescription("Get all groups a user belongs to.")
            .Returns<ApiResponse<IReadOnlyList<UserGroupMembership>>>().ReturnsProblems(404).DocumentsAuthorizationHeader();

        group.MapPost("/{user_id}/invitation", ResendInvitationAsync).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Resend User Invitation")
            .WithDescription("Send a new invitation email to a user who has not accepted one yet; earlier invitation links stop working. "
                + "409 (type urn:scaikey:problem:invitation-not-pending) when the user has a password or is not waiting for an invitation.")
            .Returns<ApiResponse<AdminUserResponse>>().ReturnsProblems(404, 409);

        group.MapPost("/{user_id}/mfa/disable", DisableMfaAsync).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Disable User Mfa").WithDescription("Disable MFA for a user (admin action).")
            .Returns<ApiResponse<AdminUserResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();

        group.MapPost("/{user_id}/reset-password", ResetPasswordAsync).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Reset User Password").WithDescription("Reset a user's password (admin sets new password directly).")
            .AcceptsJson<AdminPasswordReset>().Returns<ApiResponse<PasswordResetResponse>>().ReturnsProblems(404, 413).DocumentsAuthorizationHeader();

        group.MapPost("/{user_id}/unlock", UnlockAsync).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Unlock User").WithDescription("Unlock a locked user account and reset failed login attempts.")
            .Returns<ApiResponse<AdminUserResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();

        return group;
    }

    private static AdminScope Scope(HttpContext http) => AdminScope.Of(http);

    internal sealed record ListQuery(PageRequest Paging, string? Search, Data.Entities.UserStatus? Status, string? TenantId, string? PartnerId) : QueryInput
    {
        public static ValueTask<ListQuery?> BindAsync(HttpContext http) => BindAsync(http, Read);

        private static ListQuery Read(HttpContext http, ValidationErrors errors)
        {
            var paging = PageRequest.Read(http, errors);
            var search = UserEndpoints.Search.Read(http, errors);
            var statusText = AdminUserEndpoints.Status.Read(http, errors);
            var tenantId = AdminUserEndpoints.TenantId.Read(http, errors);
            var partnerId = AdminUserEndpoints.PartnerId.Read(http, errors);
            Data.Entities.UserStatus? status = null;
            if (statusText is not null)
            {
                var index = Array.IndexOf(StatusValues, statusText);
                if (index < 0)
                {
                    errors.Query("status", "Input should be " + Choices.Describe(StatusValues), "enum");
                }
                else
                {
                    status = Enum.GetValues<Data.Entities.UserStatus>()[index];
                }
            }

            return new ListQuery(paging, search, status, tenantId, partnerId);
        }
    }

    internal sealed record MismatchesQuery(string? TenantId, bool Fix) : QueryInput
    {
        public static ValueTask<MismatchesQuery?> BindAsync(HttpContext http) =>
            BindAsync(http, static (h, errors) => new MismatchesQuery(AdminUserEndpoints.TenantId.Read(h, errors), IdentitySourceMismatches.Fix.Read(h, errors)));
    }

    private static async Task<IResult> ListAsync(ListQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserReads reads, CancellationToken ct)
    {
        var (paging, search, status, tenantId, partnerId) = (query.Paging, query.Search, query.Status, query.TenantId, query.PartnerId);
        // The total across tenants is a sum of the per-tenant counters when only status narrows the list; any
        // search counts the matching rows of every tenant in scope (through the search index).
        var scope = Scope(http);
        var filter = new UserListFilter(search, status, null, null, null);
        var users = reads.Filter(filter);
        var counts = db.TenantUserCounts.AsQueryable();
        if (tenantId is not null)
        {
            if (await RefuseTenantFilterAsync(http, db, tenantId, ct) is { } refusal)
            {
                return refusal;
            }

            users = users.Where(u => u.TenantId == tenantId);
            counts = counts.Where(c => c.TenantId == tenantId);
        }

        if (partnerId is not null)
        {
            if (!scope.Covers(partnerId))
            {
                return Problems.Forbidden("partner_id is outside your scope.");
            }

            if (!await db.Partners.AnyAsync(p => p.Id == partnerId, ct))
            {
                var errors = new ValidationErrors();
                errors.ValueError(["query", "partner_id"], "partner not found");
                return errors.ToResult();
            }

            users = users.Where(u => db.Tenants.Any(t => t.Id == u.TenantId && t.PartnerId == partnerId));
            counts = counts.Where(c => db.Tenants.Any(t => t.Id == c.TenantId && t.PartnerId == partnerId));
        }

        if (scope.Partners is { } partners)
        {
            users = users.Where(u => db.Tenants.Any(t => t.Id == u.TenantId && t.PartnerId != null && partners.Contains(t.PartnerId)));
            counts = counts.Where(c => db.Tenants.Any(t => t.Id == c.TenantId && t.PartnerId != null && partners.Contains(t.PartnerId)));
        }

        var total = await UserReads.TotalAsync(users, counts, filter, ct);
        var items = await reads.PageAsync(users, "created_at", descending: true, paging, reads.ProjectAdminListItems, ct);
        return TypedResults.Ok(Envelope.Page(http, items, paging, total));
    }

    /// <summary>The 403 for a tenant_id filter outside the caller's scope, or the 422 for an unknown tenant; null when it may be used.</summary>
    private static async Task<IResult?> RefuseTenantFilterAsync(HttpContext http, ScaiKeyDbContext db, string tenantId, CancellationToken ct)
    {
        var tenant = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId && t.DeletedAt == null)
            .Select(t => new { t.PartnerId }).FirstOrDefaultAsync(ct);
        if (!Scope(http).Covers(tenant?.PartnerId))
        {
            return Problems.Forbidden("tenant_id is outside your scope.");
        }

        if (tenant is null)
        {
            var errors = new ValidationErrors();
            errors.ValueError(["query", "tenant_id"], "tenant not found");
            return errors.ToResult();
        }

        return null;
    }

    private static async Task<IResult> IdentitySourceMismatchesAsync(
        MismatchesQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var (tenantId, fix) = (query.TenantId, query.Fix);
        if (tenantId is not null && await RefuseTenantFilterAsync(http, db, tenantId, ct) is { } refusal)
        {
            return refusal;
        }

        var result = await IdentitySourceMismatches.RunAsync(db, audit, time, tenantId, Scope(http).Partners, fix, ct);
        return result.Succeeded
            ? TypedResults.Ok(new IdentitySourceMismatchesResponse(result.Value.Found, result.Value.Fixed, MetaResponse.For(http)))
            : result.Failure.ToResult();
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserCommands commands, [FromServices] Caller caller, CancellationToken ct)
    {
        string? tenantId = null;
        Idempotency.Request? key = null;
        var bound = await JsonBody.BindAsync(http, reader =>
        {
            var input = UserInput.ReadCreate(reader);
            tenantId = reader.RequiredString("tenant_id", 64);
            return input;
        }, (body, errors) => key = Idempotency.FromHeader(http, $"{caller.PrincipalType}:{caller.PrincipalId}", "POST /api/v1/admin/users/", body.Raw, errors));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenant = await TenantLookup.FindAsync(db, tenantId!, ct);
        if (!Scope(http).Covers(tenant?.PartnerId))
        {
            return Problems.Forbidden("tenant_id is outside your scope.");
        }

        if (tenant is null)
        {
            var errors = new ValidationErrors();
            errors.ValueError(["body", "tenant_id"], "tenant not found");
            return errors.ToResult();
        }

        return UserResults.Created(http, await commands.CreateAsync<AdminUserResponse>(RequestInfo.From(http), tenant, bound.Value!, key, ct));
    }

    /// <summary>The tenant of a visible user; null when the user does not exist or lies outside the caller's scope.</summary>
    private static async Task<TenantContext?> UserTenantAsync(HttpContext http, ScaiKeyDbContext db, string userId, CancellationToken ct)
    {
        var tenant = await db.Users.AsNoTracking().Where(u => u.Id == userId && u.DeletedAt == null)
            .Join(db.Tenants.Where(t => t.DeletedAt == null), u => u.TenantId, t => t.Id,
                (u, t) => new TenantContext(t.Id, t.PartnerId, t.Slug, t.Name, t.SettingsJson))
            .FirstOrDefaultAsync(ct);
        return tenant is not null && Scope(http).Covers(tenant.PartnerId) ? tenant : null;
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserReads reads, CancellationToken ct)
    {
        var tenant = await UserTenantAsync(http, db, userId, ct);
        var result = tenant is null ? null : await reads.GetAsync<AdminUserResponse>(tenant.Id, userId, UserIncludes.None, ct);
        if (result is not { } found)
        {
            return UserResults.NotFound();
        }

        ETags.Set(http.Response, found.Version);
        return TypedResults.Ok(Envelope.Of(http, found.Response));
    }

    private static async Task<IResult> UpdateAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, UserInput.ReadUpdate);
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenant = await UserTenantAsync(http, db, userId, ct);
        return tenant is null ? UserResults.NotFound() : UserResults.Ok(http, await commands.UpdateAsync<AdminUserResponse>(RequestInfo.From(http), tenant, userId, bound.Value!, ct));
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var tenant = await UserTenantAsync(http, db, userId, ct);
        return tenant is null ? UserResults.NotFound() : UserResults.NoContent(await commands.DeleteAsync(RequestInfo.From(http), tenant.Id, userId, confirmEmail: null, ct));
    }

    private static async Task<IResult> GroupsAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserReads reads, CancellationToken ct)
    {
        var tenant = await UserTenantAsync(http, db, userId, ct);
        return tenant is null
            ? UserResults.NotFound()
            : TypedResults.Ok(Envelope.Of(http, await reads.GroupsAsync(tenant.Id, userId, ct)));
    }

    private static async Task<IResult> DisableMfaAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var tenant = await UserTenantAsync(http, db, userId, ct);
        return tenant is null ? UserResults.NotFound() : UserResults.Ok(http, await commands.DisableMfaAsync<AdminUserResponse>(RequestInfo.From(http), tenant.Id, userId, ct));
    }

    private static async Task<IResult> ResendInvitationAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var tenant = await UserTenantAsync(http, db, userId, ct);
        return tenant is null ? UserResults.NotFound() : UserResults.Ok(http, await commands.ResendInvitationAsync<AdminUserResponse>(RequestInfo.From(http), tenant, userId, ct));
    }

    private static async Task<IResult> UnlockAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var tenant = await UserTenantAsync(http, db, userId, ct);
        return tenant is null ? UserResults.NotFound() : UserResults.Ok(http, await commands.UnlockAsync<AdminUserResponse>(RequestInfo.From(http), tenant.Id, userId, ct));
    }

    private static async Task<IResult> ResetPasswordAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, UserInput.ReadAdminPasswordReset);
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenant = await UserTenantAsync(http, db, userId, ct);
        return tenant is null ? UserResults.NotFound() : UserResults.OkBody(http, await commands.AdminResetPasswordAsync(RequestInfo.From(http), tenant, userId, bound.Value!, ct));
    }
}
