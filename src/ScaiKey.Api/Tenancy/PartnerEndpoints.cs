using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tenancy;

[Description("Create or rename a partner.")]
internal sealed record PartnerRequest(string Name);

[Description("A reseller that owns tenants.")]
internal sealed record PartnerResponse(string Id, string Name, DateTime CreatedAt, DateTime? UpdatedAt);

/// <summary>/api/v1/admin/partners: platform admins only.</summary>
internal static class PartnerEndpoints
{
    private const string Conflict = "A partner with this name already exists.";

    public static RouteGroupBuilder MapPartners(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/partners").WithTags("Partners").RequireAuthorization(ScaiKeyPolicies.Platform).ValidatesInput();
        group.MapPost("", CreateAsync).WithSummary("Create Partner")
            .AcceptsJson<PartnerRequest>().Returns<ApiResponse<PartnerResponse>>(StatusCodes.Status201Created).ReturnsProblems(409, 413);
        group.MapGet("", ListAsync).WithSummary("List Partners")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter).Returns<PaginatedResponse<PartnerResponse>>();
        group.MapGet("/{partner_id}", GetAsync).WithSummary("Get Partner").Returns<ApiResponse<PartnerResponse>>().ReturnsProblems(404);
        group.MapPatch("/{partner_id}", UpdateAsync).WithSummary("Update Partner")
            .AcceptsJson<PartnerRequest>().Returns<ApiResponse<PartnerResponse>>().ReturnsProblems(404, 409, 413);
        group.MapDelete("/{partner_id}", DeleteAsync).WithSummary("Delete Partner")
            .WithDescription("Deletes a partner that no longer has tenants (409 otherwise).")
            .ReturnsNoContent().ReturnsProblems(404, 409);
        return group;
    }

    private static string? ReadName(BodyReader reader, bool required)
    {
        var name = required ? reader.RequiredString("name", 200) : reader.String("name", 200, nullable: false);
        if (name is not null && name.Trim().Length == 0)
        {
            reader.Errors.Add(reader.Loc("name"), "String should have at least 1 character", "string_too_short");
        }

        return name?.Trim();
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => ReadName(r, required: true));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var partner = new Partner { Id = Ids.New(), Name = bound.Value!, CreatedAt = time.UtcNow() };
        db.Partners.Add(partner);
        audit.Record("partner.created", "partner", partner.Id, null, ["name"]);
        if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Created($"/api/v1/admin/partners/{partner.Id}", Envelope.Of(http, ToResponse(partner)));
    }

    private static async Task<IResult> ListAsync(PagingQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var paging = query.Paging;
        return TypedResults.Ok(await PagedList.ReadAsync(http, db.Partners.AsNoTracking(), q => q.OrderBy(p => p.Name).ThenBy(p => p.Id),
            q => q.Select(p => new PartnerResponse(p.Id, p.Name, p.CreatedAt, p.UpdatedAt)), paging, ct));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "partner_id")] string partnerId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var partner = await db.Partners.AsNoTracking().Where(p => p.Id == partnerId)
            .Select(p => new PartnerResponse(p.Id, p.Name, p.CreatedAt, p.UpdatedAt)).FirstOrDefaultAsync(ct);
        return partner is null ? Problems.NotFound("Partner not found.") : TypedResults.Ok(Envelope.Of(http, partner));
    }

    private static async Task<IResult> UpdateAsync([FromRoute(Name = "partner_id")] string partnerId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => ReadName(r, required: false));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var partner = await db.Partners.FirstOrDefaultAsync(p => p.Id == partnerId, ct);
        if (partner is null)
        {
            return Problems.NotFound("Partner not found.");
        }

        if (bound.Value is { } name && name != partner.Name)
        {
            partner.Name = name;
            partner.UpdatedAt = time.UtcNow();
            audit.Record("partner.updated", "partner", partner.Id, null, ["name"]);
            if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
            {
                return conflict;
            }
        }

        return TypedResults.Ok(Envelope.Of(http, ToResponse(partner)));
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "partner_id")] string partnerId, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var partner = await db.Partners.FirstOrDefaultAsync(p => p.Id == partnerId, ct);
        if (partner is null)
        {
            return Problems.NotFound("Partner not found.");
        }

        if (await db.Tenants.AnyAsync(t => t.PartnerId == partnerId && t.DeletedAt == null, ct))
        {
            return Problems.Conflict("The partner still has tenants; move or delete them first.");
        }

        // Deleted tenants keep their partner reference for the record; detach them so the row can go.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Tenants.Where(t => t.PartnerId == partnerId).ExecuteUpdateAsync(s => s.SetProperty(t => t.PartnerId, (string?)null), ct);
        db.Partners.Remove(partner);
        audit.Record("partner.deleted", "partner", partner.Id, null);
        if (await db.SaveOrConflictAsync(DbErrors.ConcurrentDeleteDetail, ct) is { } failure)
        {
            return failure;
        }

        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }


    private static PartnerResponse ToResponse(Partner p) => new(p.Id, p.Name, p.CreatedAt, p.UpdatedAt);
}
