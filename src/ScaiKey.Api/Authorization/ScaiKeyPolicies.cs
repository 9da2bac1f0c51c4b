using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// The one authorization mechanism of the API: named policies made of requirements, evaluated by ASP.NET Core's
/// authorization middleware before any handler, body binding or endpoint filter runs. Every management policy starts
/// with <see cref="ManagementTokenRequirement"/> (what kind of token may call the management API at all), then adds
/// where the caller may act (platform, partner, the route's tenant) and with which permission. An endpoint that names
/// no policy and does not allow anonymous access is refused (the fallback policy cannot be met), so a route someone
/// forgot to classify is closed, not open.
/// </summary>
internal static class ScaiKeyPolicies
{
    /// <summary>Platform admins only (partners, the platform's audit trail, signing keys).</summary>
    public const string Platform = "scaikey.platform";

    /// <summary>Platform admins, and partner admins for their partners' tenants (/api/v1/admin/*).</summary>
    public const string AdminScope = "scaikey.admin-scope";

    /// <summary>The permission an endpoint declares (<see cref="Tenancy.RequiredPermission"/>) inside the route's tenant.</summary>
    public const string Tenant = "scaikey.tenant";

    /// <summary>Routes that change a user ({user_id}): the caller's roles must cover every role that user holds.</summary>
    public const string CoversTargetUser = "scaikey.covers-target-user";
    public const string CoversProviderUsers = "scaikey.covers-provider-users";

    /// <summary>/api/v1/me: a user's own token with the account scope (first-party applications only).</summary>
    public const string Account = "scaikey.account";

    /// <summary>/api/v1/me changes that need a sign-in in the last five minutes (password, factor removal).</summary>
    public const string AccountRecentSignIn = "scaikey.account-recent-sign-in";

    public static IServiceCollection AddScaiKeyAuthorization(this IServiceCollection services)
    {
        services.AddSingleton<IAuthorizationHandler, ManagementTokenHandler>();
        services.AddSingleton<IAuthorizationHandler, PlatformAdminHandler>();
        services.AddSingleton<IAuthorizationHandler, AdminScopeHandler>();
        services.AddSingleton<IAuthorizationHandler, TenantPermissionHandler>();
        services.AddSingleton<IAuthorizationHandler, TargetUserCoverageHandler>();
        services.AddSingleton<IAuthorizationHandler, ProviderUserCoverageHandler>();
        services.AddSingleton<IAuthorizationHandler, AccountTokenHandler>();
        services.AddSingleton<IAuthorizationHandler, RecentSignInHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();

        services.AddAuthorizationBuilder()
            // Evaluation stops at the first failed requirement: its reason is the answer, and later requirements
            // (which read roles and tenants) cost nothing for a caller already refused.
            .SetInvokeHandlersAfterFailure(false)
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
                .AddRequirements(new UnclassifiedEndpointRequirement()).Build())
            .AddPolicy(Platform, p => p.RequireAuthenticatedUser().AddRequirements(ManagementTokenRequirement.Instance, new PlatformAdminRequirement()))
            .AddPolicy(AdminScope, p => p.RequireAuthenticatedUser().AddRequirements(ManagementTokenRequirement.Instance, new AdminScopeRequirement()))
            .AddPolicy(Tenant, p => p.RequireAuthenticatedUser().AddRequirements(ManagementTokenRequirement.Instance, new TenantPermissionRequirement()))
            .AddPolicy(CoversTargetUser, p => p.RequireAuthenticatedUser().AddRequirements(ManagementTokenRequirement.Instance, new TargetUserCoverageRequirement()))
            .AddPolicy(CoversProviderUsers, p => p.RequireAuthenticatedUser().AddRequirements(ManagementTokenRequirement.Instance, new ProviderUserCoverageRequirement()))
            // The account API is not a management route: it does not start with ManagementTokenRequirement.
            .AddPolicy(Account, p => p.RequireAuthenticatedUser().AddRequirements(AccountTokenRequirement.Instance))
            .AddPolicy(AccountRecentSignIn, p => p.RequireAuthenticatedUser().AddRequirements(AccountTokenRequirement.Instance, RecentSignInRequirement.Instance));
        services.AddSingleton<IAuthorizationHandler, UnclassifiedEndpointHandler>();
        return services;
    }
}

/// <summary>
/// The fallback: met by nobody. An endpoint reaches it only when it declares neither a policy nor anonymous access.
/// </summary>
internal sealed class UnclassifiedEndpointRequirement : IAuthorizationRequirement;

internal sealed class UnclassifiedEndpointHandler : AuthorizationHandler<UnclassifiedEndpointRequirement>
{
    // Routing's own answer for a known path with another method (HttpMethodMatcherPolicy); it reaches nothing.
    private const string MethodNotAllowedEndpoint = "405 HTTP Method Not Supported";

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, UnclassifiedEndpointRequirement requirement)
    {
        // No endpoint (404) or routing's 405: there is nothing to protect, and the caller (authenticated: anonymous
        // callers are challenged first) deserves the true status rather than a 403.
        var endpoint = (context.Resource as HttpContext)?.GetEndpoint();
        if (context.Resource is HttpContext && (endpoint is null || endpoint.DisplayName == MethodNotAllowedEndpoint))
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        context.Fail(new AuthorizationFailureReason(this, "This route declares no authorization policy, so nobody may call it."));
        return Task.CompletedTask;
    }
}

/// <summary>A refusal that is answered 404: the caller may look, but the route's tenant does not exist.</summary>
internal sealed class NotFoundReason(IAuthorizationHandler handler, string message) : AuthorizationFailureReason(handler, message);
