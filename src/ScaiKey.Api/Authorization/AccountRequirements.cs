using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using OpenIddict.Abstractions;
using ScaiKey.Api.Account;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// The self-service account API (/api/v1/me) speaks for the signed-in user only: a user's token for ScaiKey's API
/// (audience scaikey-api) carrying the account scope, which only first-party applications can obtain
/// (docs/security.md). Everything else is refused, failing closed: client-credential tokens (no user), console tokens
/// with scaikey.admin but without account (an admin's token is not a licence to change the admin's own factors), and
/// a token lacking the user, tenant or session claims the routes act on.
/// </summary>
internal sealed class AccountTokenRequirement : IAuthorizationRequirement
{
    public static readonly AccountTokenRequirement Instance = new();
}

internal sealed class AccountTokenHandler : AuthorizationHandler<AccountTokenRequirement>
{
    public const string Refusal =
        "This route is for a signed-in user's own account: it needs a user token with the account scope, which only " +
        "the tenant's first-party applications can obtain.";

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AccountTokenRequirement requirement)
    {
        if (AccountCaller.From(context.User) is not null)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, Refusal));
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Changes that would let a thief keep an account (the password, a factor's removal) need the token's sign-in session
/// to have proved the user recently (<see cref="AccountService.RecentSignIn"/>): a stolen long-lived refresh token is
/// not enough. Refused with a 403 of its own problem type (<see cref="Errors.Problems.ReauthenticationRequiredType"/>).
/// </summary>
internal sealed class RecentSignInRequirement : IAuthorizationRequirement
{
    public static readonly RecentSignInRequirement Instance = new();
}

internal sealed class RecentSignInHandler : AuthorizationHandler<RecentSignInRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, RecentSignInRequirement requirement)
    {
        if (context.Resource is HttpContext http && AccountCaller.From(context.User) is { } caller
            && await http.RequestServices.GetRequiredService<AccountService>().IsRecentSignInAsync(caller.TenantId, caller.UserId, caller.SessionId, http.RequestAborted))
        {
            context.Succeed(requirement);
            return;
        }

        context.Fail(new ReauthenticationRequiredReason(this));
    }
}

/// <summary>A refusal answered with the reauthentication-required problem type.</summary>
internal sealed class ReauthenticationRequiredReason(IAuthorizationHandler handler)
    : AuthorizationFailureReason(handler, Errors.Problems.ReauthenticationRequiredDetail);

/// <summary>The user, tenant and sign-in session an account token speaks for.</summary>
internal sealed record AccountCaller(string TenantId, string UserId, string SessionId)
{
    /// <summary>Null unless the principal is a user's account token for ScaiKey's API (see <see cref="AccountTokenRequirement"/>).</summary>
    public static AccountCaller? From(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true
            || !principal.HasAudience(ScaiKeyClaims.Audience)
            || principal.GetClaim(ScaiKeyClaims.PrincipalType) != PrincipalTypes.User
            || !principal.HasScope(OAuthSetup.AccountScope))
        {
            return null;
        }

        var tenantId = principal.GetClaim(ScaiKeyClaims.TenantId);
        var userId = principal.GetClaim(OpenIddictConstants.Claims.Subject);
        var sessionId = principal.GetClaim(ScaiKeyClaims.SessionId);
        return tenantId is { Length: > 0 } && userId is { Length: > 0 } && sessionId is { Length: > 0 }
            ? new AccountCaller(tenantId, userId, sessionId)
            : null;
    }

    public static AccountCaller Of(HttpContext http) =>
        From(http.User) ?? throw new InvalidOperationException("The account policy admitted a request without an account token.");
}
