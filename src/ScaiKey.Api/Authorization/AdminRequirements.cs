using Microsoft.AspNetCore.Authorization;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Authorization;

/// <summary>The caller holds PLATFORM_ADMIN.</summary>
internal sealed class PlatformAdminRequirement : IAuthorizationRequirement;

internal sealed class PlatformAdminHandler : AuthorizationHandler<PlatformAdminRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, PlatformAdminRequirement requirement)
    {
        if (context.Resource is HttpContext http
            && await http.RequestServices.GetRequiredService<Caller>().IsPlatformAdminAsync(http.RequestAborted))
        {
            context.Succeed(requirement);
            return;
        }

        context.Fail(new AuthorizationFailureReason(this, "Only platform admins may use this route."));
    }
}

/// <summary>
/// The caller is a platform admin, or a partner admin: the handler records which partners it covers
/// (<see cref="Access.AdminScope"/>), which the endpoints then use to filter what they show and change.
/// </summary>
internal sealed class AdminScopeRequirement : IAuthorizationRequirement;

internal sealed class AdminScopeHandler : AuthorizationHandler<AdminScopeRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminScopeRequirement requirement)
    {
        if (context.Resource is HttpContext http)
        {
            var partners = await http.RequestServices.GetRequiredService<Caller>().AdminPartnerScopeAsync(http.RequestAborted);
            if (partners is not { Count: 0 })
            {
                Access.AdminScope.Set(http, new Access.AdminScope(partners));
                context.Succeed(requirement);
                return;
            }
        }

        context.Fail(new AuthorizationFailureReason(this, "Only platform and partner admins may use the admin API."));
    }
}
