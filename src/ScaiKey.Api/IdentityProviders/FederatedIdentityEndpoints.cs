using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Authorization;
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

namespace ScaiKey.Api.IdentityProviders;

[Description("Link the user to its account (subject) at an identity provider of the same tenant.")]
internal sealed record FederatedIdentityCreate(string IdentityProviderId, string Subject);

/// <summary>
/// /api/v1/tenants/{tenant_id}/users/{user_id}/federated-identities. Linking leaves the user's identity_source
/// as it is; the admin mismatches endpoint reports (and can fix) the difference.
/// </summary>
internal static class FederatedIdentityEndpoints
{
    public static RouteGroupBuilder MapFederatedIdentities(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/users/{user_id}/federated-identities", "Federated Identities");
        group.MapPost("", CreateAsync).Requires(Permission.UsersWrite).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser).WithSummary("Link Federated Identity")
            .WithDescription("Links the user to an account at an identity provider of the tenant. An account belongs to one user, "
                + "and a user has at most one account per provider (409 otherwise).")
            .AcceptsJson<FederatedIdentityCreate>().Returns<ApiResponse<FederatedIdentityResponse>>(StatusCodes.Status201Created)
            .ReturnsProblems(404, 409, 413);
        group.MapGet("", ListAsync).Requires(Permission.UsersRead).WithSummary("List Federated Identities")
            .WithDescription("The user's links to identity providers, oldest first.")
            .Returns<ApiResponse<IReadOnlyList<FederatedIdentityResponse>>>().ReturnsProblems(404);
        group.MapDelete("/{federated_identity_id}", DeleteAsync).Requires(Permission.UsersWrite).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser).WithSummary("Unlink Federated Identity")
            .ReturnsNoContent().ReturnsProblems(404);
        return group;
    }

    /// <summary>The links of one user with their provider's type, oldest first (also used by GET user ?include=federated_identities).</summary>
    public static Task<List<FederatedIdentityResponse>> ForUserAsync(ScaiKeyDbContext db, string tenantId, string userId, CancellationToken ct) =>
        db.FederatedIdentities.AsNoTracking()
            .Where(f => f.TenantId == tenantId && f.UserId == userId)
            .Join(db.IdentityProviders, f => f.IdentityProviderId, p => p.Id, (f, p) => new { Link = f, p.Type })
            .OrderBy(x => x.Link.CreatedAt).ThenBy(x => x.Link.Id)
            .Select(x => new FederatedIdentityResponse(x.Link.Id, x.Link.IdentityProviderId, x.Type, x.Link.Subject, x.Link.CreatedAt))
            .ToListAsync(ct);

    private static FederatedIdentityCreate Read(BodyReader r)
    {
        var providerId = r.RequiredString("identity_provider_id", 64);
        var subject = r.RequiredString("subject", 500);
        if (subject is { Length: 0 })
        {
            r.Errors.Add(r.Loc("subject"), "String should have at least 1 character", "string_too_short");
        }

        return new FederatedIdentityCreate(providerId!, subject!);
    }

    private static Task<bool> UserExistsAsync(ScaiKeyDbContext db, string tenantId, string userId, CancellationToken ct) =>
        db.Users.AnyAsync(u => u.TenantId == tenantId && u.Id == userId && u.DeletedAt == null, ct);

    private static async Task<IResult> CreateAsync(
        [FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, Read);
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        var input = bound.Value!;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);

        // Locks the user row until commit, so a concurrent delete of the user cannot miss this link (the delete
        // removes links after writing the user row; here a deleted user matches nothing and is a 404).
        if (await db.Users.Where(u => u.TenantId == tenantId && u.Id == userId && u.DeletedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.Version, u => u.Version), ct) == 0)
        {
            return UserResults.NotFound();
        }

        var providerType = await db.IdentityProviders.AsNoTracking()
            .Where(p => p.TenantId == tenantId && p.Id == input.IdentityProviderId).Select(p => p.Type).FirstOrDefaultAsync(ct);
        if (providerType is null)
        {
            var errors = new ValidationErrors();
            errors.ValueError(["body", "identity_provider_id"], "identity provider not found in this tenant");
            return errors.ToResult();
        }

        if (await db.FederatedIdentities.AnyAsync(f => f.IdentityProviderId == input.IdentityProviderId && f.Subject == input.Subject, ct))
        {
            return Problems.Conflict("This account at the identity provider is already linked to a user.");
        }

        if (await db.FederatedIdentities.AnyAsync(f => f.UserId == userId && f.IdentityProviderId == input.IdentityProviderId, ct))
        {
            return Problems.Conflict("The user is already linked to an account at this identity provider.");
        }

        var link = new FederatedIdentity
        {
            Id = Ids.New(),
            TenantId = tenantId,
            UserId = userId,
            IdentityProviderId = input.IdentityProviderId,
            Subject = input.Subject,
            CreatedAt = time.UtcNow(),
        };
        db.FederatedIdentities.Add(link);
        audit.Record("user.federated_identity_linked", "user", userId, tenantId, ["federated_identities"], reason: "identity provider " + link.IdentityProviderId);
        if (await db.SaveOrConflictAsync("The account at this identity provider was linked at the same time; read the user's links again.", ct) is { } conflict)
        {
            return conflict;
        }

        await transaction.CommitAsync(ct);

        return TypedResults.Created($"/api/v1/tenants/{tenantId}/users/{userId}/federated-identities/{link.Id}",
            Envelope.Of(http, new FederatedIdentityResponse(link.Id, link.IdentityProviderId, providerType, link.Subject, link.CreatedAt)));
    }

    private static async Task<IResult> ListAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        if (!await UserExistsAsync(db, tenantId, userId, ct))
        {
            return UserResults.NotFound();
        }

        IReadOnlyList<FederatedIdentityResponse> links = await ForUserAsync(db, tenantId, userId, ct);
        return TypedResults.Ok(Envelope.Of(http, links));
    }

    private static async Task<IResult> DeleteAsync(
        [FromRoute(Name = "user_id")] string userId, [FromRoute(Name = "federated_identity_id")] string linkId, HttpContext http,
        [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        if (!await UserExistsAsync(db, tenantId, userId, ct))
        {
            return UserResults.NotFound();
        }

        var link = await db.FederatedIdentities.FirstOrDefaultAsync(f => f.TenantId == tenantId && f.UserId == userId && f.Id == linkId, ct);
        if (link is null)
        {
            return LinkNotFound();
        }

        db.FederatedIdentities.Remove(link);
        audit.Record("user.federated_identity_unlinked", "user", userId, tenantId, ["federated_identities"], reason: "identity provider " + link.IdentityProviderId);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another request unlinked it first.
            return LinkNotFound();
        }

        return TypedResults.NoContent();
    }

    private static ProblemResult LinkNotFound() => Problems.NotFound("Federated identity not found.");
}
