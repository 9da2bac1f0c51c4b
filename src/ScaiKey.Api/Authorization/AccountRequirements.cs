using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.Abstractions;
using ScaiKey.Api.Account;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// The self-service account API (/api/v1/me) speaks for the signed-in user only: a user's token for ScaiKey's API
/// (audience scaikey-api) carrying the account scope, which only first-party applications can obtain
/// (docs/security.md). Everything else is refused, failing closed: client-credential tokens (no user), console tokens
/// with scaikey.admin but without account (an admin's token is not a licence to change the admin's own factors), a
/// token lacking the user, tenant, session or grant claims the routes act on, and a token whose application is no
/// longer first-party (its access tokens would otherwise keep the scope until they expire).
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

    // Like the revocation check: an application that stops being first-party loses the account API within a second
    // on every instance, not when its last access token expires.
    private static readonly TimeSpan FirstPartyCacheLifetime = TimeSpan.FromSeconds(1);

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AccountTokenRequirement requirement)
    {
        if (context.Resource is HttpContext http && AccountCaller.From(context.User) is { } caller
            && await IsFirstPartyGrantAsync(http.RequestServices, caller, http.RequestAborted))
        {
            context.Succeed(requirement);
            return;
        }

        context.Fail(new AuthorizationFailureReason(this, Refusal));
    }

    /// <summary>Whether the token's grant belongs to the user and to an application of the user's tenant that is first-party now.</summary>
    private static async Task<bool> IsFirstPartyGrantAsync(IServiceProvider services, AccountCaller caller, CancellationToken ct)
    {
        var cache = services.GetRequiredService<IMemoryCache>();
        var key = $"account-grant:{caller.GrantId}";
        if (cache.TryGetValue(key, out bool firstParty))
        {
            return firstParty;
        }

        var db = services.GetRequiredService<ScaiKeyDbContext>();
        firstParty = await db.TokenGrants.AsNoTracking()
            .Where(g => g.Id == caller.GrantId && g.UserId == caller.UserId && g.TenantId == caller.TenantId && g.SessionId == caller.SessionId)
            .AnyAsync(g => db.Applications.Any(a => a.ClientId == g.ClientId && a.TenantId == caller.TenantId && a.FirstParty), ct);
        cache.Set(key, firstParty, FirstPartyCacheLifetime);
        return firstParty;
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
internal sealed record AccountCaller(string TenantId, string UserId, string SessionId, string GrantId)
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
        var grantId = principal.GetClaim(ScaiKeyClaims.GrantId);
        return tenantId is { Length: > 0 } && userId is { Length: > 0 } && sessionId is { Length: > 0 } && grantId is { Length: > 0 }
            ? new AccountCaller(tenantId, userId, sessionId, grantId)
            : null;
    }

    public static AccountCaller Of(HttpContext http) =>
        From(http.User) ?? throw new InvalidOperationException("The account policy admitted a request without an account token.");
}
