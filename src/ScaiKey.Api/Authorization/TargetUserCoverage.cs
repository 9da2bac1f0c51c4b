using Microsoft.AspNetCore.Authorization;
using ScaiKey.Api.Access;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// Routes that change a user ({user_id}): nobody may act on a user holding a role wider than their own
/// (<see cref="RoleCoverage"/>). A user the caller cannot see is left to the endpoint, whose 404 must not be
/// pre-empted by a 403 that would reveal the user exists.
/// </summary>
internal sealed class TargetUserCoverageRequirement : IAuthorizationRequirement;

internal sealed class TargetUserCoverageHandler : AuthorizationHandler<TargetUserCoverageRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, TargetUserCoverageRequirement requirement)
    {
        if (context.Resource is not HttpContext http)
        {
            context.Fail();
            return;
        }

        if (http.GetRouteValue("user_id") is string userId)
        {
            var db = http.RequestServices.GetRequiredService<ScaiKeyDbContext>();
            var caller = http.RequestServices.GetRequiredService<Caller>();
            var grants = await RoleCoverage.GrantsOfAsync(db, PrincipalTypes.User, userId, http.RequestAborted);
            if (grants.Count > 0 && await RoleCoverage.VisibleAsync(http, db, caller, userId)
                && !await RoleCoverage.CoversAsync(db, caller, grants, http.RequestAborted))
            {
                context.Fail(new AuthorizationFailureReason(this,
                    "This user holds roles beyond yours; only someone who holds them may change this user."));
                return;
            }
        }

        context.Succeed(requirement);
    }
}
