using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
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

namespace ScaiKey.Api.Groups;

/// <summary>A group's members: add, list (direct and inherited), remove.</summary>
internal static partial class GroupEndpoints
{
    private static async Task<IResult> AddMembersAsync([FromRoute(Name = "group_id")] string groupId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r =>
        {
            var ids = r.StringList("user_ids", 1000, 64);
            if (ids is null && !r.Errors.Any)
            {
                r.Errors.Missing(r.Loc("user_ids"));
            }

            return ids ?? [];
        });
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        if (!await db.Groups.AnyAsync(g => g.TenantId == tenantId && g.Id == groupId, ct))
        {
            return GroupNotFound();
        }

        var ids = bound.Value!;
        var existingUsers = await db.Users.Where(u => u.TenantId == tenantId && u.DeletedAt == null && ids.Contains(u.Id)).Select(u => u.Id).ToListAsync(ct);
        var errors = new ValidationErrors();
        for (var i = 0; i < ids.Count; i++)
        {
            if (!existingUsers.Contains(ids[i]))
            {
                errors.ValueError(["body", "user_ids", i], "user not found in this tenant");
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var already = await db.GroupMembers.Where(m => m.GroupId == groupId && ids.Contains(m.UserId)).Select(m => m.UserId).ToListAsync(ct);
        var added = ids.Distinct(StringComparer.Ordinal).Except(already, StringComparer.Ordinal).ToList();
        var now = time.UtcNow();
        foreach (var userId in added)
        {
            db.GroupMembers.Add(new GroupMember { GroupId = groupId, UserId = userId, TenantId = tenantId, CreatedAt = now });
            audit.Record("group.member_added", "group", groupId, tenantId, ["members"], reason: "user " + userId);
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            return Problems.Conflict("The membership changed at the same time; retry.");
        }
        catch (DbUpdateException ex) when (DbErrors.IsForeignKeyViolation(ex))
        {
            return Problems.Conflict(DbErrors.ConcurrentDeleteDetail);
        }

        return TypedResults.Ok(Envelope.Of(http, new GroupMembersAddResponse(added, already)));
    }

    private static async Task<IResult> ListMembersAsync([FromRoute(Name = "group_id")] string groupId, PagingQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var paging = query.Paging;
        var tenantId = http.Tenant().Id;
        var subtree = await Hierarchy.GroupSubtreeAsync(db, tenantId, groupId, ct);
        if (subtree is null)
        {
            return GroupNotFound();
        }

        var members = db.Users.AsNoTracking()
            .Where(u => u.TenantId == tenantId && u.DeletedAt == null
                && db.GroupMembers.Any(m => m.UserId == u.Id && subtree.Contains(m.GroupId)));
        return TypedResults.Ok(await PagedList.ReadAsync(http, members, q => q.OrderBy(u => u.EmailNormalized).ThenBy(u => u.Id),
            q => q.Select(u => new GroupMemberResponse(u.Id, u.Email, u.DisplayName, u.Status,
                db.GroupMembers.Any(m => m.GroupId == groupId && m.UserId == u.Id) ? "DIRECT" : "INHERITED")),
            paging, ct));
    }

    private static async Task<IResult> RemoveMemberAsync(
        [FromRoute(Name = "group_id")] string groupId, [FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var membership = await db.GroupMembers.FirstOrDefaultAsync(m => m.TenantId == tenantId && m.GroupId == groupId && m.UserId == userId, ct);
        if (membership is null)
        {
            return Problems.NotFound("The user is not a direct member of this group.");
        }

        db.GroupMembers.Remove(membership);
        audit.Record("group.member_removed", "group", groupId, tenantId, ["members"], reason: "user " + userId);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
