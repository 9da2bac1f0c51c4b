using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Access;

[Description("Register an admin service client. partner_id makes it a client that partner's admins manage " +
    "(required for partner admins who administer more than one partner).")]
internal sealed record AdminClientCreate(string Name, [property: ApiOptional] string? PartnerId);

[Description("An admin service client; what it may do comes only from its role assignments.")]
internal sealed record AdminClientResponse(string Id, string ClientId, string Name, string? PartnerId, DateTime CreatedAt);

[Description("A newly registered admin client with its secret, which is shown only in this response.")]
internal sealed record AdminClientCreatedResponse(string Id, string ClientId, string Name, string? PartnerId, DateTime CreatedAt, string ClientSecret);

[Description("A new secret for an admin client, shown only in this response; the old one stops working.")]
internal sealed record ClientSecretResponse(string ClientId, string ClientSecret);

/// <summary>/api/v1/admin/clients: service clients of the admin API (client_credentials), managed per partner.</summary>
internal static class AdminClientEndpoints
{
    private static readonly QueryParameter<string> PartnerFilter = Query.NullableString("partner_id", 64);

    public static RouteGroupBuilder MapAdminClients(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/clients").WithTags("Admin Clients").RequireAuthorization(ScaiKeyPolicies.AdminScope).ValidatesInput();
        group.MapPost("", CreateAsync).WithSummary("Create Admin Client")
            .WithDescription("Creates a client without any role; grant it roles with /api/v1/admin/role-assignments.")
            .AcceptsJson<AdminClientCreate>().Returns<ApiResponse<AdminClientCreatedResponse>>(StatusCodes.Status201Created).ReturnsProblems(403, 413);
        group.MapGet("", ListAsync).WithSummary("List Admin Clients")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter, PartnerFilter)
            .Returns<PaginatedResponse<AdminClientResponse>>().ReturnsProblems(403);
        group.MapGet("/{id}", GetAsync).WithSummary("Get Admin Client").Returns<ApiResponse<AdminClientResponse>>().ReturnsProblems(404);
        group.MapPost("/{id}/secret", RotateSecretAsync).WithSummary("Rotate Admin Client Secret")
            .Returns<ApiResponse<ClientSecretResponse>>().ReturnsProblems(404);
        group.MapDelete("/{id}", DeleteAsync).WithSummary("Delete Admin Client")
            .WithDescription("Deletes the client and its role assignments; its tokens stop working at once. " +
                "A client holding the last PLATFORM_ADMIN assignment cannot be deleted (409).")
            .ReturnsNoContent().ReturnsProblems(404, 409);
        return group;
    }

    private static AdminClientCreate Read(BodyReader r)
    {
        var name = r.RequiredString("name", 200)?.Trim();
        if (name is { Length: 0 })
        {
            r.Errors.Add(r.Loc("name"), "String should have at least 1 character", "string_too_short");
        }

        return new AdminClientCreate(name!, r.String("partner_id", 64));
    }

    private static async Task<IResult> CreateAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] IOpenIddictApplicationManager applications, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, Read);
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var input = bound.Value!;
        var scope = AdminScope.Of(http);
        var partnerId = input.PartnerId;
        if (partnerId is null && scope.Partners is { Count: 1 } only)
        {
            partnerId = only.First();
        }

        if (partnerId is null && !scope.IsPlatform)
        {
            var errors = new ValidationErrors();
            errors.Missing("body", "partner_id");
            return errors.ToResult();
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
                errors.ValueError(["body", "partner_id"], "partner not found");
                return errors.ToResult();
            }
        }

        var clientId = "adm_" + SecretGenerator.Token(12).ToLowerInvariant().Replace('-', 'x').Replace('_', 'x');
        var secret = SecretGenerator.Token(32);
        var entity = new AdminClient { Id = Ids.New(), ClientId = clientId, Name = input.Name, PartnerId = partnerId, CreatedAt = time.UtcNow() };

        // OpenIddict saves through the same scoped context; one transaction keeps the pair whole.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await applications.CreateAsync(Bootstrap.AdminClientDescriptor(clientId, secret, input.Name), ct);
        db.AdminClients.Add(entity);
        audit.Record("admin_client.created", "admin_client", entity.Id, null, ["name", "partner_id"]);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        return TypedResults.Created($"/api/v1/admin/clients/{entity.Id}", Envelope.Of(http,
            new AdminClientCreatedResponse(entity.Id, entity.ClientId, entity.Name, entity.PartnerId, entity.CreatedAt, secret)));
    }

    private static IQueryable<AdminClient> Visible(ScaiKeyDbContext db, AdminScope scope)
    {
        var query = db.AdminClients.AsNoTracking();
        return scope.Partners is { } partners ? query.Where(c => c.PartnerId != null && partners.Contains(c.PartnerId)) : query;
    }

    internal sealed record ListQuery(PageRequest Paging, string? PartnerId) : QueryInput
    {
        public static ValueTask<ListQuery?> BindAsync(HttpContext http) =>
            BindAsync(http, static (h, e) => new ListQuery(PageRequest.Read(h, e), PartnerFilter.Read(h, e)));
    }

    private static async Task<IResult> ListAsync(ListQuery filter, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var (paging, partnerId) = (filter.Paging, filter.PartnerId);
        var scope = AdminScope.Of(http);
        if (partnerId is not null && !scope.Covers(partnerId))
        {
            return Problems.Forbidden("partner_id is outside your scope.");
        }

        var query = Visible(db, scope);
        if (partnerId is not null)
        {
            query = query.Where(c => c.PartnerId == partnerId);
        }

        return TypedResults.Ok(await PagedList.ReadAsync(http, query, q => q.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id),
            q => q.Select(c => new AdminClientResponse(c.Id, c.ClientId, c.Name, c.PartnerId, c.CreatedAt)), paging, ct));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "id")] string id, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var found = await Visible(db, AdminScope.Of(http)).Where(c => c.Id == id)
            .Select(c => new AdminClientResponse(c.Id, c.ClientId, c.Name, c.PartnerId, c.CreatedAt)).FirstOrDefaultAsync(ct);
        return found is null ? NotFound() : TypedResults.Ok(Envelope.Of(http, found));
    }

    private static async Task<IResult> RotateSecretAsync(
        [FromRoute(Name = "id")] string id, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] IOpenIddictApplicationManager applications,
        [FromServices] AuditLog audit, [FromServices] Caller caller, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var client = await LockVisibleAsync(http, db, id, ct);
        var application = client is null ? null : await applications.FindByClientIdAsync(client.ClientId, ct);
        if (client is null || application is null)
        {
            return NotFound();
        }

        if (await RefuseWiderAsync(db, caller, client, ct) is { } refusal)
        {
            return refusal;
        }

        var secret = SecretGenerator.Token(32);
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, ct);
        descriptor.ClientSecret = secret;
        await applications.UpdateAsync(application, descriptor, ct);
        audit.Record("admin_client.secret_rotated", "admin_client", client.Id, null, ["client_secret"]);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return TypedResults.Ok(Envelope.Of(http, new ClientSecretResponse(client.ClientId, secret)));
    }

    private static async Task<IResult> DeleteAsync(
        [FromRoute(Name = "id")] string id, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] IOpenIddictApplicationManager applications,
        [FromServices] AuditLog audit, [FromServices] Caller caller, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var client = await LockVisibleAsync(http, db, id, ct);
        if (client is null)
        {
            return NotFound();
        }

        if (await RefuseWiderAsync(db, caller, client, ct) is { } refusal)
        {
            return refusal;
        }

        var grants = await db.RoleAssignments
            .Where(r => r.PrincipalType == PrincipalTypes.Client && r.PrincipalId == client.ClientId).ToListAsync(ct);
        if (grants.Any(g => g.Role == Roles.PlatformAdmin)
            && await RoleAssignmentEndpoints.LastPlatformAdminAsync(db, grants.Select(g => g.Id).ToList(), ct))
        {
            return Problems.Conflict("This client holds the last PLATFORM_ADMIN assignment; grant the role to someone else first.");
        }

        if (await applications.FindByClientIdAsync(client.ClientId, ct) is { } application)
        {
            await applications.DeleteAsync(application, ct);
        }

        db.RoleAssignments.RemoveRange(grants);
        db.AdminClients.Remove(client);
        audit.Record("admin_client.deleted", "admin_client", client.Id, null);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        // After the commit: its tokens are refused from now on (401), on this instance at once.
        OpenIdConnect.ClientRevocation.ForgetDeleted(http.RequestServices, client.ClientId);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The visible client, locked for this transaction (a no-op update takes the row lock on PostgreSQL; SQLite
    /// serializes writers), so concurrent rotations and deletes run one after another instead of failing.
    /// </summary>
    private static async Task<AdminClient?> LockVisibleAsync(HttpContext http, ScaiKeyDbContext db, string id, CancellationToken ct)
    {
        var visible = await Visible(db, AdminScope.Of(http)).Where(c => c.Id == id).Select(c => c.Id).FirstOrDefaultAsync(ct);
        if (visible is null || await db.AdminClients.Where(c => c.Id == visible).ExecuteUpdateAsync(s => s.SetProperty(c => c.Name, c => c.Name), ct) == 0)
        {
            return null;
        }

        return await db.AdminClients.FirstOrDefaultAsync(c => c.Id == visible, ct);
    }

    /// <summary>Taking over a client (its secret) or removing it must not reach roles the caller does not hold.</summary>
    private static async Task<IResult?> RefuseWiderAsync(ScaiKeyDbContext db, Caller caller, AdminClient client, CancellationToken ct)
    {
        var grants = await RoleCoverage.GrantsOfAsync(db, PrincipalTypes.Client, client.ClientId, ct);
        return await RoleCoverage.CoversAsync(db, caller, grants, ct)
            ? null
            : Problems.Forbidden("This client holds roles beyond yours; only someone who holds them may change it.");
    }

    private static IResult NotFound() => Problems.NotFound("Admin client not found.");
}
