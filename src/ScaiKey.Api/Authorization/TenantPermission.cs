using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// /api/v1/tenants/{tenant_id}/...: the endpoint's declared permission (<see cref="RequiredPermission"/>) must be
/// granted to the caller inside the route's tenant, the way bitwarden's organization requirements read the
/// organization from the route. The tenant's own applications pass only where the endpoint admits them (the handler
/// then limits them to what is assigned to them). An endpoint that declares no permission is refused.
/// </summary>
internal sealed class TenantPermissionRequirement : IAuthorizationRequirement;

internal sealed class TenantPermissionHandler : AuthorizationHandler<TenantPermissionRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, TenantPermissionRequirement requirement)
    {
        if (context.Resource is not HttpContext http || http.GetEndpoint()?.Metadata.GetMetadata<RequiredPermission>() is not { } required)
        {
            context.Fail(new AuthorizationFailureReason(this, "This route declares no permission, so nobody may call it."));
            return;
        }

        var services = http.RequestServices;
        var tenantId = http.GetRouteValue("tenant_id") as string ?? string.Empty;
        var caller = services.GetRequiredService<Caller>();
        var tenant = await TenantLookup.FindCachedAsync(
            services.GetRequiredService<ScaiKeyDbContext>(), services.GetRequiredService<IMemoryCache>(), tenantId, http.RequestAborted);

        // Permission is checked before existence, so a caller without access cannot probe which tenant ids exist.
        var application = await caller.ApplicationAsync(http.RequestAborted);
        var allowed = application is not null
            ? required.Applications && application.TenantId == tenantId
            : await caller.HasTenantPermissionAsync(tenantId, tenant?.PartnerId, required.Permission, http.RequestAborted);
        if (!allowed)
        {
            context.Fail(new AuthorizationFailureReason(this, "You are not allowed to perform this action."));
            return;
        }

        if (tenant is null)
        {
            context.Fail(new NotFoundReason(this, "Tenant not found."));
            return;
        }

        TenantAccess.SetTenant(http, tenant);
        context.Succeed(requirement);
    }
}
