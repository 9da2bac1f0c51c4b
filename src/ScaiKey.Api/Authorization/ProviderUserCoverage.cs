using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Access;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// Routes that change how an identity provider ({identity_provider_id}) authenticates its users: whoever may point
/// it at another issuer, certificate or directory can sign in as any user linked to it, so the caller must cover
/// (<see cref="RoleCoverage"/>) the roles of every such user, as for a change to the users themselves. Without
/// this, a tenant admin could re-point a provider and sign in as a partner admin linked to it.
/// </summary>
internal sealed class ProviderUserCoverageRequirement : IAuthorizationRequirement;

internal sealed class ProviderUserCoverageHandler : AuthorizationHandler<ProviderUserCoverageRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ProviderUserCoverageRequirement requirement)
    {
        if (context.Resource is not HttpContext http)
        {
            context.Fail();
            return;
        }

        if (http.GetRouteValue("identity_provider_id") is string providerId && http.GetRouteValue("tenant_id") is string tenantId)
        {
            var db = http.RequestServices.GetRequiredService<ScaiKeyDbContext>();
            var grants = await db.RoleAssignments.AsNoTracking()
                .Where(r => r.PrincipalType == PrincipalTypes.User
                    && db.FederatedIdentities.Any(f => f.IdentityProviderId == providerId && f.TenantId == tenantId && f.UserId == r.PrincipalId))
                .Select(r => new RoleGrant(r.Role, r.PartnerId, r.TenantId))
                .ToListAsync(http.RequestAborted);
            if (grants.Count > 0 && !await RoleCoverage.CoversAsync(db, http.RequestServices.GetRequiredService<Caller>(), grants, http.RequestAborted))
            {
                context.Fail(new AuthorizationFailureReason(this,
                    "Users linked to this identity provider hold roles beyond yours; only someone who holds them may change the provider."));
                return;
            }
        }

        context.Succeed(requirement);
    }
}
