using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The browser side of OpenID Connect: the authorization endpoint (a code for a signed-in user, or the login page
/// first) and the end-session endpoint. OpenIddict validates each request before it gets here (client, exact
/// redirect URI, PKCE with S256, post-logout redirect URI) and writes the responses these handlers ask for.
/// </summary>
internal static class AuthorizeEndpoints
{
    public static void MapAuthorizeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/" + OAuthSetup.AuthorizePath, [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync)
            .AllowAnonymous()
            .ExcludeFromDescription();
    }

    /// <summary>
    /// Issues a code for the browser's signed-in user, or sends the browser to the tenant's login page first.
    /// There is no consent step: every application is registered by the tenant's own administrators for the
    /// tenant's users (first-party), so the administrator's registration is the consent.
    /// </summary>
    private static async Task<IResult> AuthorizeAsync(HttpContext http, ScaiKeyDbContext db, SignInService signIn, TimeProvider time, CancellationToken ct)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");

        var tenantId = await db.Applications.AsNoTracking().Where(a => a.ClientId == request.ClientId)
            .Select(a => a.TenantId).FirstOrDefaultAsync(ct);
        var tenant = tenantId is null ? null : await TenantLookup.FindAsync(db, tenantId, ct);
        if (tenant is null)
        {
            // Admin clients are OpenIddict clients too, but belong to no tenant whose users could sign in.
            return Refuse(OpenIddictConstants.Errors.UnauthorizedClient, "This client is not an application of a tenant.");
        }

        var user = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        var now = time.GetUtcNow();
        var mustAuthenticate = user is null
            || request.HasPromptValue(PromptValues.Login)
            || (request.MaxAge is { } maxAge && user.AuthenticatedAt.AddSeconds(maxAge) < now);
        if (mustAuthenticate)
        {
            return request.HasPromptValue(PromptValues.None)
                ? Refuse(OpenIddictConstants.Errors.LoginRequired, "The user is not signed in.")
                : Results.Redirect(HostedPages.LoginUrl(http, tenant.Slug, await ReturnUrlAsync(http)));
        }

        if (user!.RequirePasswordChange)
        {
            return request.HasPromptValue(PromptValues.None)
                ? Refuse(OpenIddictConstants.Errors.InteractionRequired, "The user must change their password first.")
                : Results.Redirect(HostedPages.ChangePasswordUrl(http, tenant.Slug, await ReturnUrlAsync(http)));
        }

        var grantId = await signIn.StartGrantAsync(tenant.Id, user.UserId, user.SessionId, request.ClientId!, ct);
        var principal = await signIn.BuildPrincipalAsync(tenant.Id, user.UserId, user.SessionId, grantId, 0, request.GetScopes(), ct);
        if (principal is null)
        {
            // The session or the user ended between the check above and now: sign in again.
            return Results.Redirect(HostedPages.LoginUrl(http, tenant.Slug, await ReturnUrlAsync(http)));
        }

        // auth_time lets the client enforce its own max_age; the nonce is copied into the ID token by OpenIddict.
        var authTime = new System.Security.Claims.Claim(
            Claims.AuthenticationTime, user.AuthenticatedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            System.Security.Claims.ClaimValueTypes.Integer64);
        authTime.SetDestinations(Destinations.IdentityToken);
        principal.Identities.First().AddClaim(authTime);

        await db.UserSessions.Where(s => s.Id == user.SessionId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, time.UtcNow()), ct);
        return Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// This request as a GET URL to come back to after the login page: the same parameters, less prompt and max_age,
    /// which the fresh sign-in has just satisfied (kept, they would send the browser back to the login page forever).
    /// </summary>
    private static async Task<string> ReturnUrlAsync(HttpContext http)
    {
        IEnumerable<KeyValuePair<string, StringValues>> parameters = http.Request.HasFormContentType
            ? await http.Request.ReadFormAsync(http.RequestAborted)
            : http.Request.Query;
        var query = new QueryBuilder(parameters.Where(p => p.Key is not (Parameters.Prompt or Parameters.MaxAge)));
        return http.Request.PathBase + "/" + OAuthSetup.AuthorizePath + query.ToQueryString();
    }

    // An OAuth error, which OpenIddict returns to the client's (validated) redirect URI.
    private static IResult Refuse(string error, string description) => TokenEndpoints.Refuse(error, description);
}
