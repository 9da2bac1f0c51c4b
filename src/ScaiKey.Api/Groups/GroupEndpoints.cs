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

/// <summary>/api/v1/tenants/{tenant_id}/groups.</summary>
internal static partial class GroupEndpoints
{
    private const string Conflict = "A group with this name already exists in this tenant.";

    private static readonly string TooDeep = $"groups nest at most {Hierarchy.MaxGroupDepth} levels deep";

    public static RouteGroupBuilder MapGroups(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/groups", "Groups");
        group.MapPost("", CreateAsync).Requires(Permission.DirectoryWrite).WithSummary("Create Group")
            .AcceptsJson<GroupRequest>().Returns<ApiResponse<GroupResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 409, 413);
        group.MapGet("", ListAsync).Requires(Permission.DirectoryRead).WithSummary("List Groups")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter, UserEndpoints.Search).Returns<PaginatedResponse<GroupResponse>>().ReturnsProblems(404);
        group.MapGet("/{group_id}", GetAsync).Requires(Permission.DirectoryRead).WithSummary("Get Group")
            .Returns<ApiResponse<GroupResponse>>().ReturnsProblems(404);
        group.MapPatch("/{group_id}", UpdateAsync).Requires(Permission.DirectoryWrite).WithSummary("Update Group")
            .AcceptsJson<GroupRequest>().Returns<ApiResponse<GroupResponse>>().ReturnsProblems(404, 409, 413);
        group.MapDelete("/{group_id}", DeleteAsync).Requires(Permission.DirectoryWrite).WithSummary("Delete Group")
            .WithDescription("Deletes a group without child groups (409 otherwise); its memberships go with it.")
            .ReturnsNoContent().ReturnsProblems(404, 409);
        group.MapPost("/{group_id}/members", AddMembersAsync).Requires(Permission.DirectoryWrite).WithSummary("Add Group Members")
            .AcceptsJson<GroupMembersAdd>().Returns<ApiResponse<GroupMembersAddResponse>>().ReturnsProblems(404, 413);
        group.MapGet("/{group_id}/members", ListMembersAsync).Requires(Permission.DirectoryRead).WithSummary("List Group Members")
            .WithDescription("Direct members and members of nested groups (INHERITED), ordered by email.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter).Returns<PaginatedResponse<GroupMemberResponse>>().ReturnsProblems(404);
        group.MapDelete("/{group_id}/members/{user_id}", RemoveMemberAsync).Requires(Permission.DirectoryWrite).WithSummary("Remove Group Member")
            .ReturnsNoContent().ReturnsProblems(404);
        return group;
    }

    private sealed record Input(Optional<string> Name, Optional<string> Description, Optional<string> ParentGroupId);

    private static Input Read(BodyReader r, bool create)
    {
        var name = create ? new Optional<string>(true, r.RequiredString("name", 200)) : r.OptionalString("name", 200, nullable: false);
        if (name.Value is { } n && n.Trim().Length == 0)
        {
            r.Errors.Add(r.Loc("name"), "String should have at least 1 character", "string_too_short");
        }

        return new Input(name.Value is null ? name : new(true, name.Value.Trim()), r.OptionalString("description", 2000), r.OptionalString("parent_group_id", 64));
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: true));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        var input = bound.Value!;
        if (input.ParentGroupId.Value is { } parentId)
        {
            var parents = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId).ToDictionaryAsync(g => g.Id, g => g.ParentGroupId, ct);
            if (!parents.ContainsKey(parentId))
            {
                return Invalid(["body", "parent_group_id"], "parent group not found in this tenant");
            }

            if (Hierarchy.WouldBeTooDeep(parents, null, parentId))
            {
                return Invalid(["body", "parent_group_id"], TooDeep);
            }
        }

        var entity = new Group
        {
            Id = Ids.New(),
            TenantId = tenantId,
            Name = input.Name.Value!,
            Description = input.Description.Value,
            ParentGroupId = input.ParentGroupId.Value,
            CreatedAt = time.UtcNow(),
        };
        db.Groups.Add(entity);
        audit.Record("group.created", "group", entity.Id, tenantId, ["name", "description", "parent_group_id"]);
        if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Created($"/api/v1/tenants/{tenantId}/groups/{entity.Id}", Envelope.Of(http, ToResponse(entity)));
    }

    private static async Task<IResult> ListAsync(PagedSearchQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var (paging, search) = (query.Paging, query.Search);
        var tenantId = http.Tenant().Id;
        var groups = db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId);
        if (search?.Trim() is { Length: > 0 } term)
        {
            var lowered = term.ToLowerInvariant();
            groups = groups.Where(g => g.Name.ToLower().Contains(lowered));
        }

        return TypedResults.Ok(await PagedList.ReadAsync(http, groups, q => q.OrderBy(g => g.Name).ThenBy(g => g.Id),
            q => q.Select(g => new GroupResponse(g.Id, g.Name, g.Description, g.ParentGroupId, g.CreatedAt, g.UpdatedAt)), paging, ct));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "group_id")] string groupId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var group = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId && g.Id == groupId)
            .Select(g => new GroupResponse(g.Id, g.Name, g.Description, g.ParentGroupId, g.CreatedAt, g.UpdatedAt)).FirstOrDefaultAsync(ct);
        return group is null ? GroupNotFound() : TypedResults.Ok(Envelope.Of(http, group));
    }

    private static async Task<IResult> UpdateAsync([FromRoute(Name = "group_id")] string groupId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: false));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        var input = bound.Value!;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.LockTenantAsync(tenantId, ct);
        var entity = await db.Groups.FirstOrDefaultAsync(g => g.TenantId == tenantId && g.Id == groupId, ct);
        if (entity is null)
        {
            return GroupNotFound();
        }

        var changed = new List<string>();
        if (input.Name.Value is { } name && name != entity.Name)
        {
            entity.Name = name;
            changed.Add("name");
        }

        if (input.Description.IsSet && input.Description.Value != entity.Description)
        {
            entity.Description = input.Description.Value;
            changed.Add("description");
        }

        if (input.ParentGroupId.IsSet && input.ParentGroupId.Value != entity.ParentGroupId)
        {
            if (input.ParentGroupId.Value is { } parentId)
            {
                var parents = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId)
                    .ToDictionaryAsync(g => g.Id, g => g.ParentGroupId, ct);
                if (!parents.ContainsKey(parentId))
                {
                    return Invalid(["body", "parent_group_id"], "parent group not found in this tenant");
                }

                if (Hierarchy.WouldCycle(parents, entity.Id, parentId))
                {
                    return Invalid(["body", "parent_group_id"], "a group cannot be nested below itself");
                }

                if (Hierarchy.WouldBeTooDeep(parents, entity.Id, parentId))
                {
                    return Invalid(["body", "parent_group_id"], TooDeep);
                }
            }

            entity.ParentGroupId = input.ParentGroupId.Value;
            changed.Add("parent_group_id");
        }

        if (changed.Count > 0)
        {
            entity.UpdatedAt = time.UtcNow();
            audit.Record("group.updated", "group", entity.Id, tenantId, changed);
            if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
            {
                return conflict;
            }

            await transaction.CommitAsync(ct);
        }

        return TypedResults.Ok(Envelope.Of(http, ToResponse(entity)));
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "group_id")] string groupId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var entity = await db.Groups.FirstOrDefaultAsync(g => g.TenantId == tenantId && g.Id == groupId, ct);
        if (entity is null)
        {
            return GroupNotFound();
        }

        if (await db.Groups.AnyAsync(g => g.TenantId == tenantId && g.ParentGroupId == groupId, ct))
        {
            return Problems.Conflict("The group has nested groups; move or delete them first.");
        }

        db.Groups.Remove(entity);
        audit.Record("group.deleted", "group", entity.Id, tenantId);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static IResult Invalid(object[] loc, string message)
    {
        var errors = new ValidationErrors();
        errors.ValueError(loc, message);
        return errors.ToResult();
    }

    private static ProblemResult GroupNotFound() => Problems.NotFound("Group not found.");

    private static GroupResponse ToResponse(Group g) => new(g.Id, g.Name, g.Description, g.ParentGroupId, g.CreatedAt, g.UpdatedAt);
}
