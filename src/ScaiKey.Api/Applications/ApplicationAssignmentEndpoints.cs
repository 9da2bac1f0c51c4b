using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.Abstractions;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Applications;

/// <summary>Who may use an application: assignments to users and groups, and the users they add up to.</summary>
internal static partial class ApplicationEndpoints
{
    private static async Task<IResult> AssignAsync(
        [FromRoute(Name = "application_id")] string applicationId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r =>
        {
            var userId = r.OptionalString("user_id", 64).Value;
            var groupId = r.OptionalString("group_id", 64).Value;
            if (!r.Errors.Any && (userId is null) == (groupId is null))
            {
                r.Errors.ValueError(["body"], userId is null
                    ? "one of user_id and group_id is required"
                    : "give either user_id or group_id, not both");
            }

            return new ApplicationAssignmentCreate(userId, groupId);
        });
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        if (await FindAsync(db, tenantId, applicationId, ct) is null)
        {
            return ApplicationNotFound();
        }

        var input = bound.Value!;
        var errors = new ValidationErrors();
        if (input.UserId is { } userId && !await db.Users.AnyAsync(u => u.TenantId == tenantId && u.Id == userId && u.DeletedAt == null, ct))
        {
            errors.ValueError(["body", "user_id"], "user not found in this tenant");
        }

        if (input.GroupId is { } groupId && !await db.Groups.AnyAsync(g => g.TenantId == tenantId && g.Id == groupId, ct))
        {
            errors.ValueError(["body", "group_id"], "group not found in this tenant");
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var assignment = new ApplicationAssignment
        {
            Id = Ids.New(),
            TenantId = tenantId,
            ApplicationId = applicationId,
            UserId = input.UserId,
            GroupId = input.GroupId,
            CreatedAt = time.UtcNow(),
        };
        db.ApplicationAssignments.Add(assignment);
        audit.Record("application.assignment_created", TargetType, applicationId, tenantId, ["assignments"], reason: Describe(assignment));
        var duplicate = input.UserId is not null ? "The user is already assigned to this application." : "The group is already assigned to this application.";
        if (await db.SaveOrConflictAsync(duplicate, ct) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Created($"/api/v1/tenants/{tenantId}/applications/{applicationId}/assignments/{assignment.Id}",
            Envelope.Of(http, ToResponse(assignment)));
    }

    private static async Task<IResult> ListAssignmentsAsync(
        [FromRoute(Name = "application_id")] string applicationId, PagingQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var paging = query.Paging;
        var tenantId = http.Tenant().Id;
        if (await FindAsync(db, tenantId, applicationId, ct) is null)
        {
            return ApplicationNotFound();
        }

        // A soft-deleted user is gone from every read, its assignments included.
        var assignments = db.ApplicationAssignments.AsNoTracking()
            .Where(a => a.TenantId == tenantId && a.ApplicationId == applicationId
                && (a.UserId == null || db.Users.Any(u => u.Id == a.UserId && u.DeletedAt == null)));
        return TypedResults.Ok(await PagedList.ReadAsync(http, assignments, q => q.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id),
            q => q.Select(a => new ApplicationAssignmentResponse(a.Id, a.ApplicationId, a.UserId, a.GroupId, a.CreatedAt)), paging, ct));
    }

    private static async Task<IResult> UnassignAsync(
        [FromRoute(Name = "application_id")] string applicationId, [FromRoute(Name = "assignment_id")] string assignmentId,
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var assignment = await db.ApplicationAssignments
            .FirstOrDefaultAsync(a => a.TenantId == tenantId && a.ApplicationId == applicationId && a.Id == assignmentId, ct);
        if (assignment is null)
        {
            return await FindAsync(db, tenantId, applicationId, ct) is null
                ? ApplicationNotFound()
                : Problems.NotFound("Assignment not found.");
        }

        db.ApplicationAssignments.Remove(assignment);
        audit.Record("application.assignment_deleted", TargetType, applicationId, tenantId, ["assignments"], reason: Describe(assignment));
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> EffectiveUsersAsync(
        [FromRoute(Name = "application_id")] string applicationId, PagingQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserReads reads, CancellationToken ct)
    {
        var paging = query.Paging;
        var tenantId = http.Tenant().Id;
        if (await FindAsync(db, tenantId, applicationId, ct) is null)
        {
            return ApplicationNotFound();
        }

        var users = await ApplicationAccess.EffectiveUsersAsync(db, tenantId, applicationId, ct);
        return TypedResults.Ok(await PagedList.ReadAsync(http, users, q => q.OrderBy(u => u.EmailNormalized).ThenBy(u => u.Id),
            reads.ProjectListItems, paging, ct));
    }
}
