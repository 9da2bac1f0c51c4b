using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Consents;

/// <summary>
/// /api/v1/tenants/{tenant_id}/users/{user_id}/consents: what the user has allowed applications on the consent
/// page, and its revocation by an administrator.
/// </summary>
internal static class ConsentEndpoints
{
    public static RouteGroupBuilder MapConsents(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/users/{user_id}/consents", "Consents");
        group.MapGet("", ListAsync).Requires(Permission.UsersRead).WithSummary("List User Consents")
            .WithDescription("The applications the user has allowed on the consent page, with the scopes allowed, ordered by application name.")
            .Returns<ApiResponse<IReadOnlyList<ConsentResponse>>>().ReturnsProblems(404);
        group.MapDelete("/{consent_id}", RevokeAsync).Requires(Permission.UsersWrite).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser).WithSummary("Revoke User Consent")
            .WithDescription("Forgets the consent, so the application must ask again, and revokes the user's token grants to that "
                + "application: its refresh tokens fail and its access tokens stop working at once.")
            .ReturnsNoContent().ReturnsProblems(404);
        return group;
    }

    private static Task<bool> UserExistsAsync(ScaiKeyDbContext db, string tenantId, string userId, CancellationToken ct) =>
        db.Users.AnyAsync(u => u.TenantId == tenantId && u.Id == userId && u.DeletedAt == null, ct);

    private static async Task<IResult> ListAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        if (!await UserExistsAsync(db, tenantId, userId, ct))
        {
            return UserResults.NotFound();
        }

        var rows = await db.UserConsents.AsNoTracking()
            .Where(c => c.TenantId == tenantId && c.UserId == userId)
            .Join(db.Applications.Where(a => a.TenantId == tenantId), c => c.ApplicationId, a => a.Id, (c, a) => new { Consent = c, a.Name, a.ClientId })
            .OrderBy(x => x.Name.ToLower()).ThenBy(x => x.Name).ThenBy(x => x.Consent.Id)
            .ToListAsync(ct);
        IReadOnlyList<ConsentResponse> items = rows.Select(x => new ConsentResponse(x.Consent.Id, x.Consent.ApplicationId, x.Name, x.ClientId,
            ApplicationSignIn.ReadScopes(x.Consent.ScopesJson), x.Consent.CreatedAt, x.Consent.UpdatedAt)).ToList();
        return TypedResults.Ok(Envelope.Of(http, items));
    }

    /// <summary>
    /// The consent goes, and with it every live token grant of the user to that application (by client id), in one
    /// transaction; the revocation cache is told after the commit, so no request re-reads the grants in between.
    /// </summary>
    private static async Task<IResult> RevokeAsync(
        [FromRoute(Name = "user_id")] string userId, [FromRoute(Name = "consent_id")] string consentId, HttpContext http,
        [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] RevocationCache revocations, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        if (!await UserExistsAsync(db, tenantId, userId, ct))
        {
            return UserResults.NotFound();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var consent = await db.UserConsents.FirstOrDefaultAsync(c => c.TenantId == tenantId && c.UserId == userId && c.Id == consentId, ct);
        var clientId = consent is null
            ? null
            : await db.Applications.AsNoTracking().Where(a => a.TenantId == tenantId && a.Id == consent.ApplicationId).Select(a => a.ClientId).FirstOrDefaultAsync(ct);
        if (consent is null || clientId is null)
        {
            return ConsentNotFound();
        }

        var now = time.UtcNow();
        db.UserConsents.Remove(consent);
        var grants = await db.TokenGrants
            .Where(g => g.TenantId == tenantId && g.UserId == userId && g.ClientId == clientId && g.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, "consent_revoked"), ct);
        audit.Record("user.consent_revoked", "user", userId, tenantId, ["consents"],
            reason: $"application {consent.ApplicationId}; {grants} token grant(s) revoked");
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another request revoked it first (and its grants with it).
            return ConsentNotFound();
        }

        await transaction.CommitAsync(ct);
        revocations.EvictUser(userId);
        return TypedResults.NoContent();
    }

    private static ProblemResult ConsentNotFound() => Problems.NotFound("Consent not found.");
}
