using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Access;

/// <summary>
/// /api/v1/admin/role-assignments. Platform admins grant anything; partner admins only PARTNER_ADMIN of their own
/// partners and tenant roles in their partners' tenants, so nobody can grant a role wider than their own.
/// </summary>
internal static partial class RoleAssignmentEndpoints
{
    private static readonly string[] PrincipalTypeValues = [PrincipalTypes.User, PrincipalTypes.Client];
    private static readonly QueryParameter<string> PrincipalTypeFilter = Query.NullableString("principal_type", 8);
    private static readonly QueryParameter<string> PrincipalIdFilter = Query.NullableString("principal_id", 200);
    private static readonly QueryParameter<string> RoleFilter = Query.NullableString("role", 32);
    private static readonly QueryParameter<string> PartnerFilter = Query.NullableString("partner_id", 64);
    private static readonly QueryParameter<string> TenantFilter = Query.NullableString("tenant_id", 64);

    public static RouteGroupBuilder MapRoleAssignments(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/role-assignments").WithTags("Role Assignments").RequireAuthorization(ScaiKeyPolicies.AdminScope).ValidatesInput();
        group.MapPost("", CreateAsync).WithSummary("Create Role Assignment")
            .AcceptsJson<RoleAssignmentCreate>().Returns<ApiResponse<RoleAssignmentResponse>>(StatusCodes.Status201Created).ReturnsProblems(403, 409, 413);
        group.MapGet("", ListAsync).WithSummary("List Role Assignments")
            .WithDescription("Partner admins see the assignments of their partners and of their partners' tenants.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter, PrincipalTypeFilter, PrincipalIdFilter, RoleFilter, PartnerFilter, TenantFilter)
            .Returns<PaginatedResponse<RoleAssignmentResponse>>().ReturnsProblems(403);
        group.MapGet("/{assignment_id}", GetAsync).WithSummary("Get Role Assignment")
            .Returns<ApiResponse<RoleAssignmentResponse>>().ReturnsProblems(404);
        group.MapDelete("/{assignment_id}", DeleteAsync).WithSummary("Delete Role Assignment")
            .WithDescription("Revokes the role at once. The last PLATFORM_ADMIN assignment cannot be deleted (409).")
            .ReturnsNoContent().ReturnsProblems(404, 409);
        return group;
    }

    private static RoleAssignmentCreate Read(BodyReader r)
    {
        var principalType = r.RequiredChoice("principal_type", PrincipalTypeValues);
        var principalId = r.RequiredString("principal_id", 200);
        var role = r.RequiredChoice("role", Roles.All);
        var partnerId = r.String("partner_id", 64);
        var tenantId = r.String("tenant_id", 64);
        if (principalId is { Length: 0 })
        {
            r.Errors.Add(r.Loc("principal_id"), "String should have at least 1 character", "string_too_short");
        }

        if (role is not null)
        {
            var needsPartner = role == Roles.PartnerAdmin;
            var needsTenant = role is Roles.TenantAdmin or Roles.TenantHelpdesk or Roles.TenantViewer;
            CheckScopeField(r, "partner_id", partnerId, needsPartner, role);
            CheckScopeField(r, "tenant_id", tenantId, needsTenant, role);
        }

        return new RoleAssignmentCreate(principalType!, principalId!, role!, partnerId, tenantId);
    }

    private static void CheckScopeField(BodyReader r, string field, string? value, bool needed, string role)
    {
        if (needed && value is null)
        {
            r.Errors.ValueError(r.Loc(field), $"{field} is required for {role}");
        }
        else if (!needed && value is not null)
        {
            r.Errors.ValueError(r.Loc(field), $"{field} must not be set for {role}");
        }
    }

    private static async Task<IResult> CreateAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] IMemoryCache cache, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, Read);
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var input = bound.Value!;
        var scope = AdminScope.Of(http);
        var errors = new ValidationErrors();

        if (input.Role == Roles.PlatformAdmin && !scope.IsPlatform)
        {
            return Problems.Forbidden("Only platform admins may grant PLATFORM_ADMIN.");
        }

        if (input.PartnerId is { } partnerId)
        {
            if (!scope.Covers(partnerId))
            {
                return Problems.Forbidden("partner_id is outside your scope.");
            }

            if (!await db.Partners.AnyAsync(p => p.Id == partnerId, ct))
            {
                errors.ValueError(["body", "partner_id"], "partner not found");
            }
        }

        if (input.TenantId is { } tenantId)
        {
            var tenant = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId && t.DeletedAt == null)
                .Select(t => new { t.PartnerId }).FirstOrDefaultAsync(ct);
            if (tenant is not null && !scope.Covers(tenant.PartnerId))
            {
                return Problems.Forbidden("tenant_id is outside your scope.");
            }

            if (tenant is null)
            {
                // A partner admin learns nothing about tenants it cannot see: unknown and foreign look alike.
                if (!scope.IsPlatform)
                {
                    return Problems.Forbidden("tenant_id is outside your scope.");
                }

                errors.ValueError(["body", "tenant_id"], "tenant not found");
            }
        }

        if (!await PrincipalVisibleAsync(db, scope, input.PrincipalType, input.PrincipalId, ct))
        {
            errors.ValueError(["body", "principal_id"], input.PrincipalType == PrincipalTypes.User ? "user not found" : "admin client not found");
        }
        else if (input.PrincipalType == PrincipalTypes.Client && !await WithinOwnerAsync(db, input, ct))
        {
            // A partner's admins manage its clients (rotate, delete); a role beyond that partner would be theirs to take.
            errors.ValueError(["body", "role"], "a client owned by a partner can only hold roles within that partner");
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var entity = new RoleAssignment
        {
            Id = Ids.New(),
            PrincipalType = input.PrincipalType,
            PrincipalId = input.PrincipalId,
            Role = input.Role,
            PartnerId = input.PartnerId,
            TenantId = input.TenantId,
            CreatedAt = time.UtcNow(),
        };
        db.RoleAssignments.Add(entity);
        audit.Record("role_assignment.created", "role_assignment", entity.Id, entity.TenantId,
            ["principal_type", "principal_id", "role", "partner_id", "tenant_id"]);
        if (await db.SaveOrConflictAsync("This principal already holds this role in this scope.", ct) is { } conflict)
        {
            return conflict;
        }

        Caller.Evict(cache, entity.PrincipalType, entity.PrincipalId);
        return TypedResults.Created($"/api/v1/admin/role-assignments/{entity.Id}", Envelope.Of(http, ToResponse(entity)));
    }

    internal sealed record ListQuery(PageRequest Paging, string? PrincipalType, string? PrincipalId, string? Role, string? PartnerId, string? TenantId) : QueryInput
    {
        public static ValueTask<ListQuery?> BindAsync(HttpContext http) => BindAsync(http, Read);

        private static ListQuery Read(HttpContext http, ValidationErrors errors)
        {
            var query = new ListQuery(PageRequest.Read(http, errors), PrincipalTypeFilter.Read(http, errors), PrincipalIdFilter.Read(http, errors),
                RoleFilter.Read(http, errors), PartnerFilter.Read(http, errors), TenantFilter.Read(http, errors));
            if (query.PrincipalType is not null && !PrincipalTypeValues.Contains(query.PrincipalType))
            {
                errors.Query("principal_type", "Input should be " + Choices.Describe(PrincipalTypeValues), "enum");
            }

            if (query.Role is not null && !Roles.All.Contains(query.Role))
            {
                errors.Query("role", "Input should be " + Choices.Describe(Roles.All), "enum");
            }

            return query;
        }
    }

    private static async Task<IResult> ListAsync(ListQuery filter, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var (paging, principalType, principalId, role, partnerId, tenantId) =
            (filter.Paging, filter.PrincipalType, filter.PrincipalId, filter.Role, filter.PartnerId, filter.TenantId);
        var scope = AdminScope.Of(http);
        if (partnerId is not null && !scope.Covers(partnerId))
        {
            return Problems.Forbidden("partner_id is outside your scope.");
        }

        if (tenantId is not null && !await scope.CoversTenantAsync(db, tenantId, ct))
        {
            return Problems.Forbidden("tenant_id is outside your scope.");
        }

        var query = Visible(db, scope);
        if (principalType is not null)
        {
            query = query.Where(r => r.PrincipalType == principalType);
        }

        if (principalId is not null)
        {
            query = query.Where(r => r.PrincipalId == principalId);
        }

        if (role is not null)
        {
            query = query.Where(r => r.Role == role);
        }

        if (partnerId is not null)
        {
            query = query.Where(r => r.PartnerId == partnerId);
        }

        if (tenantId is not null)
        {
            query = query.Where(r => r.TenantId == tenantId);
        }

        return TypedResults.Ok(await PagedList.ReadAsync(http, query, q => q.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id),
            q => q.Select(r => new RoleAssignmentResponse(r.Id, r.PrincipalType, r.PrincipalId, r.Role, r.PartnerId, r.TenantId, r.CreatedAt)),
            paging, ct));
    }

    /// <summary>Assignments the caller may see: all for platform admins; for partner admins those scoped to their partners or their tenants.</summary>
    private static IQueryable<RoleAssignment> Visible(ScaiKeyDbContext db, AdminScope scope)
    {
        var query = db.RoleAssignments.AsNoTracking();
        if (scope.Partners is { } partners)
        {
            query = query.Where(r => (r.PartnerId != null && partners.Contains(r.PartnerId))
                || (r.TenantId != null && db.Tenants.Any(t => t.Id == r.TenantId && t.PartnerId != null && partners.Contains(t.PartnerId))));
        }

        return query;
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "assignment_id")] string assignmentId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var found = await Visible(db, AdminScope.Of(http)).Where(r => r.Id == assignmentId)
            .Select(r => new RoleAssignmentResponse(r.Id, r.PrincipalType, r.PrincipalId, r.Role, r.PartnerId, r.TenantId, r.CreatedAt))
            .FirstOrDefaultAsync(ct);
        return found is null ? NotFound() : TypedResults.Ok(Envelope.Of(http, found));
    }

    private static async Task<IResult> DeleteAsync(
        [FromRoute(Name = "assignment_id")] string assignmentId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] IMemoryCache cache, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var visible = await Visible(db, AdminScope.Of(http)).Where(r => r.Id == assignmentId).Select(r => r.Id).FirstOrDefaultAsync(ct);
        var entity = visible is null ? null : await db.RoleAssignments.FirstOrDefaultAsync(r => r.Id == visible, ct);
        if (entity is null)
        {
            return NotFound();
        }

        if (entity.Role == Roles.PlatformAdmin && await LastPlatformAdminAsync(db, [entity.Id], ct))
        {
            return Problems.Conflict("This is the last PLATFORM_ADMIN assignment; grant the role to someone else first.");
        }

        db.RoleAssignments.Remove(entity);
        audit.Record("role_assignment.deleted", "role_assignment", entity.Id, entity.TenantId, ["role"]);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        Caller.Evict(cache, entity.PrincipalType, entity.PrincipalId);
        return TypedResults.NoContent();
    }

    private static RoleAssignmentResponse ToResponse(RoleAssignment r) =>
        new(r.Id, r.PrincipalType, r.PrincipalId, r.Role, r.PartnerId, r.TenantId, r.CreatedAt);

    private static IResult NotFound() => Problems.NotFound("Role assignment not found.");
}
