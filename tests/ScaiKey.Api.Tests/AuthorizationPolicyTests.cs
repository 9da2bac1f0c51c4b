using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The authorization mechanism fails closed: every route either allows anonymous access or names one of ScaiKey's
/// policies; a route that names none, or a tenant route that declares no permission, is refused to everyone,
/// platform admins included.
/// </summary>
public sealed class AuthorizationPolicyTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static readonly string[] Policies =
    [
        ScaiKey.Api.Authorization.ScaiKeyPolicies.Platform, ScaiKey.Api.Authorization.ScaiKeyPolicies.AdminScope,
        ScaiKey.Api.Authorization.ScaiKeyPolicies.Tenant, ScaiKey.Api.Authorization.ScaiKeyPolicies.CoversTargetUser,
        ScaiKey.Api.Authorization.ScaiKeyPolicies.CoversProviderUsers,
        ScaiKey.Api.Authorization.ScaiKeyPolicies.Account, ScaiKey.Api.Authorization.ScaiKeyPolicies.AccountRecentSignIn,
        ScaiKey.Api.Scim.ScimSetup.Policy,
    ];

    private IEnumerable<RouteEndpoint> Endpoints =>
        app.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();

    [Fact]
    public void Every_api_route_names_a_policy_and_no_api_route_is_anonymous()
    {
        var api = Endpoints.Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(api);
        Assert.All(api, e =>
        {
            Assert.Null(e.Metadata.GetMetadata<IAllowAnonymous>());
            var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            Assert.True(policies.Count > 0 && policies.All(p => p is not null && Policies.Contains(p)), $"{e.RoutePattern.RawText}: {string.Join(", ", policies)}");
        });

        // The account API names the account policy, and only it names the account policies: a management route that
        // took account tokens, or an account route that took management tokens, would fail here.
        Assert.All(api, e =>
        {
            var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            var account = e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/v1/me", StringComparison.Ordinal);
            Assert.True(account
                ? policies.Contains(ScaiKey.Api.Authorization.ScaiKeyPolicies.Account) && policies.All(p => p!.StartsWith(ScaiKey.Api.Authorization.ScaiKeyPolicies.Account, StringComparison.Ordinal))
                : policies.All(p => !p!.StartsWith(ScaiKey.Api.Authorization.ScaiKeyPolicies.Account, StringComparison.Ordinal)), $"{e.RoutePattern.RawText}: {string.Join(", ", policies)}");
        });

        // Tenant routes declare the permission the tenant policy checks.
        Assert.All(api.Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/v1/tenants/{tenant_id}", StringComparison.Ordinal)),
            e => Assert.NotNull(e.Metadata.GetMetadata<ScaiKey.Api.Tenancy.RequiredPermission>()));
    }

    [Fact]
    public void Routes_outside_the_api_are_anonymous_on_purpose()
    {
        var others = Endpoints.Where(e => !e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal)
            && !e.RoutePattern.RawText!.TrimStart('/').StartsWith("scim/v2", StringComparison.Ordinal)).ToList();
        Assert.All(others, e => Assert.True(e.Metadata.GetMetadata<IAllowAnonymous>() is not null, e.RoutePattern.RawText));
    }

    [Fact]
    public void Scim_routes_name_the_scim_policy_and_only_it()
    {
        var scim = Endpoints.Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("scim/v2", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(scim);
        Assert.All(scim, e =>
        {
            Assert.Null(e.Metadata.GetMetadata<IAllowAnonymous>());
            var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            Assert.True(policies.Count > 0 && policies.All(p => p == ScaiKey.Api.Scim.ScimSetup.Policy), $"{e.RoutePattern.RawText}: {string.Join(", ", policies)}");
        });
    }

    [Fact]
    public async Task A_route_without_a_policy_is_refused_even_to_a_platform_admin()
    {
        var (context, principal) = PlatformAdminContext(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "unclassified"));
        var policy = await context.RequestServices.GetRequiredService<IAuthorizationPolicyProvider>().GetFallbackPolicyAsync();
        Assert.NotNull(policy);
        var result = await context.RequestServices.GetRequiredService<IAuthorizationService>().AuthorizeAsync(principal, context, policy!);
        Assert.False(result.Succeeded);

        // Control: the same caller passes the platform policy.
        var platform = await context.RequestServices.GetRequiredService<IAuthorizationService>()
            .AuthorizeAsync(principal, context, ScaiKey.Api.Authorization.ScaiKeyPolicies.Platform);
        Assert.True(platform.Succeeded);
    }

    [Fact]
    public async Task A_tenant_route_without_a_declared_permission_is_refused_even_to_a_platform_admin()
    {
        var tenant = await app.CreateTenantAsync();
        var (context, principal) = PlatformAdminContext(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "no permission"));
        context.Request.RouteValues["tenant_id"] = tenant;
        var authorization = context.RequestServices.GetRequiredService<IAuthorizationService>();
        Assert.False((await authorization.AuthorizeAsync(principal, context, ScaiKey.Api.Authorization.ScaiKeyPolicies.Tenant)).Succeeded);

        // Control: with a permission declared, the platform admin passes.
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask,
            new EndpointMetadataCollection(new ScaiKey.Api.Tenancy.RequiredPermission(ScaiKey.Api.Security.Permission.UsersRead)), "declared"));
        var (allowed, _) = PlatformAdminContext(context.GetEndpoint()!);
        allowed.Request.RouteValues["tenant_id"] = tenant;
        Assert.True((await authorization.AuthorizeAsync(principal, allowed, ScaiKey.Api.Authorization.ScaiKeyPolicies.Tenant)).Succeeded);
    }

    /// <summary>A request context as the bearer scheme leaves it for the bootstrap platform-admin client.</summary>
    private (HttpContext Context, ClaimsPrincipal Principal) PlatformAdminContext(Endpoint endpoint)
    {
        var identity = new ClaimsIdentity("test");
        identity.AddClaim(new Claim("sub", ScaiKeyApp.AdminClientId));
        identity.AddClaim(new Claim("scaikey_pt", "CLIENT"));
        identity.AddClaim(new Claim("oi_aud", "scaikey-api")); // OpenIddict's validated principal holds the audience here
        var principal = new ClaimsPrincipal(identity);
        var scope = app.Host.Services.CreateScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider, User = principal };
        context.SetEndpoint(endpoint);
        scope.ServiceProvider.GetRequiredService<IHttpContextAccessor>().HttpContext = context;
        return (context, principal);
    }
}
