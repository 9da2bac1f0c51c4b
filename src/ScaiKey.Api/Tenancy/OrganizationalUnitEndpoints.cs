using System.ComponentModel;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Groups;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tenancy;

[Description("Create, rename or move an organizational unit.")]
internal sealed record OrganizationalUnitRequest(string Name, string? ParentId);

[Description("An organizational unit; path lists the names from the root, such as /Sales/EMEA.")]
internal sealed record OrganizationalUnitResponse(string Id, string Name, string? ParentId, string Path, DateTime CreatedAt, DateTime? UpdatedAt);

/// <summary>/api/v1/tenants/{tenant_id}/ous: the OU tree, with materialized paths kept right on rename and move.</summary>
internal static class OrganizationalUnitEndpoints
{
    // Keeps the (tenant_id, path) index within PostgreSQL's btree entry limit and both providers alike.
    private const int MaxPathBytes = 2000;
    private const string PathTooLong = "the resulting path would be longer than 2000 bytes; use shorter names or a flatter tree";

    private const string Conflict = "An organizational unit with this name already exists under the same parent.";

    public static RouteGroupBuilder MapOrganizationalUnits(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/ous", "Organizational units");
        group.MapPost("", CreateAsync).Requires(Permission.DirectoryWrite).WithSummary("Create Organizational Unit")
            .AcceptsJson<OrganizationalUnitRequest>().Returns<ApiResponse<OrganizationalUnitResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 409, 413);
        group.MapGet("", ListAsync).Requires(Permission.DirectoryRead).WithSummary("List Organizational Units")
            .WithDescription("All OUs of the tenant, ordered by path.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter).Returns<PaginatedResponse<OrganizationalUnitResponse>>().ReturnsProblems(404);
        group.MapGet("/{ou_id}", GetAsync).Requires(Permission.DirectoryRead).WithSummary("Get Organizational Unit")
            .Returns<ApiResponse<OrganizationalUnitResponse>>().ReturnsProblems(404);
        group.MapPatch("/{ou_id}", UpdateAsync).Requires(Permission.DirectoryWrite).WithSummary("Update Organizational Unit")
            .WithDescription("Rename (name) or move (parent_id; null moves it to the root). Paths of the whole subtree follow.")
            .AcceptsJson<OrganizationalUnitRequest>().Returns<ApiResponse<OrganizationalUnitResponse>>().ReturnsProblems(404, 409, 413);
        group.MapDelete("/{ou_id}", DeleteAsync).Requires(Permission.DirectoryWrite).WithSummary("Delete Organizational Unit")
            .WithDescription("Deletes an OU without child OUs or users (409 otherwise).")
            .ReturnsNoContent().ReturnsProblems(404, 409);
        return group;
    }

    private sealed record Input(Optional<string> Name, Optional<string> ParentId);

    private static Input Read(BodyReader r, bool create)
    {
        var name = create ? new Optional<string>(true, r.RequiredString("name", 200)) : r.OptionalString("name", 200, nullable: false);
        if (name.Value is { } n && (n.Trim().Length == 0 || n.Contains('/', StringComparison.Ordinal)))
        {
            r.Errors.ValueError(r.Loc("name"), "name must be non-empty and must not contain '/'");
        }

        return new Input(name.Value is null ? name : new(true, name.Value.Trim()), r.OptionalString("parent_id", 64));
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: true));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenant = http.Tenant();
        var input = bound.Value!;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.LockTenantAsync(tenant.Id, ct);
        string parentPath = string.Empty;
        if (input.ParentId.Value is { } parentId)
        {
            var parent = await db.OrganizationalUnits.AsNoTracking().FirstOrDefaultAsync(o => o.TenantId == tenant.Id && o.Id == parentId, ct);
            if (parent is null)
            {
                return Invalid("parent_id", "parent organizational unit not found in this tenant");
            }

            parentPath = parent.Path;
        }

        var ou = new OrganizationalUnit
        {
            Id = Ids.New(),
            TenantId = tenant.Id,
            ParentId = input.ParentId.Value,
            Name = input.Name.Value!,
            Path = parentPath + "/" + input.Name.Value,
            CreatedAt = time.UtcNow(),
        };
        if (Encoding.UTF8.GetByteCount(ou.Path) > MaxPathBytes)
        {
            return Invalid("name", PathTooLong);
        }

        db.OrganizationalUnits.Add(ou);
        audit.Record("ou.created", "ou", ou.Id, tenant.Id, ["name", "parent_id"]);
        if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
        {
            return conflict;
        }

        await transaction.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/tenants/{tenant.Id}/ous/{ou.Id}", Envelope.Of(http, ToResponse(ou)));
    }

    private static async Task<IResult> ListAsync(PagingQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var paging = query.Paging;
        var tenantId = http.Tenant().Id;
        var ous = db.OrganizationalUnits.AsNoTracking().Where(o => o.TenantId == tenantId);
        return TypedResults.Ok(await PagedList.ReadAsync(http, ous, q => q.OrderBy(o => o.Path).ThenBy(o => o.Id),
            q => q.Select(o => new OrganizationalUnitResponse(o.Id, o.Name, o.ParentId, o.Path, o.CreatedAt, o.UpdatedAt)), paging, ct));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "ou_id")] string ouId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var ou = await db.OrganizationalUnits.AsNoTracking().Where(o => o.TenantId == tenantId && o.Id == ouId)
            .Select(o => new OrganizationalUnitResponse(o.Id, o.Name, o.ParentId, o.Path, o.CreatedAt, o.UpdatedAt)).FirstOrDefaultAsync(ct);
        return ou is null ? Problems.NotFound("Organizational unit not found.") : TypedResults.Ok(Envelope.Of(http, ou));
    }

    private static async Task<IResult> UpdateAsync([FromRoute(Name = "ou_id")] string ouId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: false));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        var input = bound.Value!;

        // The whole tree is loaded tracked, under the tenant lock: a rename or move rewrites the path of every
        // descendant, and the cycle check must see the tree as it will be committed.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.LockTenantAsync(tenantId, ct);
        var all = await db.OrganizationalUnits.Where(o => o.TenantId == tenantId).ToListAsync(ct);
        var ou = all.FirstOrDefault(o => o.Id == ouId);
        if (ou is null)
        {
            return Problems.NotFound("Organizational unit not found.");
        }

        var changed = new List<string>();
        if (input.Name.Value is { } name && name != ou.Name)
        {
            ou.Name = name;
            changed.Add("name");
        }

        if (input.ParentId.IsSet && input.ParentId.Value != ou.ParentId)
        {
            if (input.ParentId.Value is { } parentId)
            {
                if (all.All(o => o.Id != parentId))
                {
                    return Invalid("parent_id", "parent organizational unit not found in this tenant");
                }

                if (Hierarchy.WouldCycle(all.ToDictionary(o => o.Id, o => o.ParentId), ou.Id, parentId))
                {
                    return Invalid("parent_id", "an organizational unit cannot be moved below itself");
                }
            }

            ou.ParentId = input.ParentId.Value;
            changed.Add("parent_id");
        }

        if (changed.Count > 0)
        {
            var now = time.UtcNow();
            ou.UpdatedAt = now;
            if (!RewritePaths(all, ou, now))
            {
                return Problems.Conflict("The organizational unit tree contains a loop; it cannot be changed until it is repaired.");
            }

            if (all.Any(o => Encoding.UTF8.GetByteCount(o.Path) > MaxPathBytes))
            {
                return Invalid(changed.Contains("name") ? "name" : "parent_id", PathTooLong);
            }

            audit.Record("ou.updated", "ou", ou.Id, tenantId, changed);
            if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
            {
                return conflict;
            }

            await transaction.CommitAsync(ct);
        }

        return TypedResults.Ok(Envelope.Of(http, ToResponse(ou)));
    }

    /// <summary>Rewrites the subtree's paths; false when the tree holds a loop (it then changes nothing that is saved).</summary>
    private static bool RewritePaths(List<OrganizationalUnit> all, OrganizationalUnit root, DateTime now)
    {
        var byId = all.ToDictionary(o => o.Id);
        var children = all.Where(o => o.ParentId is not null).ToLookup(o => o.ParentId!);
        root.Path = (root.ParentId is { } p ? byId[p].Path : string.Empty) + "/" + root.Name;
        var stack = new Stack<OrganizationalUnit>([root]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.TryPop(out var node))
        {
            if (!seen.Add(node.Id))
            {
                return false;
            }

            foreach (var child in children[node.Id])
            {
                var path = node.Path + "/" + child.Name;
                if (path != child.Path)
                {
                    child.Path = path;
                    child.UpdatedAt = now;
                }

                stack.Push(child);
            }
        }

        return true;
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "ou_id")] string ouId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var ou = await db.OrganizationalUnits.FirstOrDefaultAsync(o => o.TenantId == tenantId && o.Id == ouId, ct);
        if (ou is null)
        {
            return Problems.NotFound("Organizational unit not found.");
        }

        if (await db.OrganizationalUnits.AnyAsync(o => o.TenantId == tenantId && o.ParentId == ouId, ct))
        {
            return Problems.Conflict("The organizational unit has child units; move or delete them first.");
        }

        if (await db.Users.AnyAsync(u => u.TenantId == tenantId && u.OuId == ouId && u.DeletedAt == null, ct))
        {
            return Problems.Conflict("The organizational unit still has users; move them first.");
        }

        // Deleted users may still point here; they are invisible, so let them go with it.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Users.Where(u => u.TenantId == tenantId && u.OuId == ouId).ExecuteUpdateAsync(s => s.SetProperty(u => u.OuId, (string?)null), ct);
        db.OrganizationalUnits.Remove(ou);
        audit.Record("ou.deleted", "ou", ou.Id, tenantId);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static IResult Invalid(string field, string message)
    {
        var errors = new ValidationErrors();
        errors.ValueError(["body", field], message);
        return errors.ToResult();
    }


    private static OrganizationalUnitResponse ToResponse(OrganizationalUnit o) => new(o.Id, o.Name, o.ParentId, o.Path, o.CreatedAt, o.UpdatedAt);
}
