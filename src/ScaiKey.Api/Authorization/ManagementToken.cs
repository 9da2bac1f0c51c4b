using Microsoft.AspNetCore.Authorization;
using OpenIddict.Abstractions;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// Who a token speaks for decides whether it may call the management API at all (docs/security.md):
/// client-credential tokens of admin clients and applications (their roles or assignments then decide what they
/// reach), and user tokens only when they carry <see cref="OAuthSetup.AdminScope"/>, which only ScaiKey's own
/// first-party console client can obtain. A user's token issued to a tenant application is that application's to
/// use: its audience is the application, and it never acts with the user's admin roles here.
/// </summary>
internal sealed class ManagementTokenRequirement : IAuthorizationRequirement
{
    public static readonly ManagementTokenRequirement Instance = new();
}

internal sealed class ManagementTokenHandler : AuthorizationHandler<ManagementTokenRequirement>
{
    public const string Refusal =
        "This token may not call the management API: it was issued to an application for its own use. Use a " +
        "client-credential token, or a token of the ScaiKey console client with the scaikey.admin scope.";

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ManagementTokenRequirement requirement)
    {
        if (IsManagementToken(context.User))
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, Refusal));
        }

        return Task.CompletedTask;
    }

    public static bool IsManagementToken(System.Security.Claims.ClaimsPrincipal principal)
    {
        // The API's validation already demanded the scaikey-api audience; checking it again here keeps the rule whole
        // in one place should that configuration ever widen.
        if (principal.Identity?.IsAuthenticated != true || !principal.HasAudience(ScaiKeyClaims.Audience))
        {
            return false;
        }

        return principal.GetClaim(ScaiKeyClaims.PrincipalType) switch
        {
            PrincipalTypes.Client => true,
            PrincipalTypes.User => principal.HasScope(OAuthSetup.AdminScope),
            _ => false,
        };
    }
}
