using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.OpenIdConnect;

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
    /// Issues a code for the browser's signed-in user, or sends the browser to the tenant's login page, the forced
    /// password change or the consent page first (OpenID Connect Core 1.0 §3.1.2.1 for prompt and max_age; with
    /// prompt=none each of those is an error to the client instead).
    /// </summary>
    private static async Task<IResult> AuthorizeAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] SignInService signIn, [FromServices] TokenPrincipals principals,
        [FromServices] UserReads reads, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");

        var tenant = await SignInTenantAsync(db, http.RequestServices.GetRequiredService<IMemoryCache>(), request, ct);
        if (tenant is null)
        {
            // Admin clients are OpenIddict clients too, but belong to no tenant whose users could sign in.
            return Refuse(OpenIddictConstants.Errors.UnauthorizedClient, "This client is not an application of a tenant.");
        }

        var user = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        var now = time.GetUtcNow();

        // max_age=0 means "authenticate now", like prompt=login, hence <=.
        var mustAuthenticate = user is null
            || request.HasPromptValue(PromptValues.Login)
            || (request.MaxAge is { } maxAge && user.AuthenticatedAt.AddSeconds(maxAge) <= now);
        if (mustAuthenticate)
        {
            return request.HasPromptValue(PromptValues.None)
                ? Refuse(OpenIddictConstants.Errors.LoginRequired, "The user is not signed in, or not recently enough.")
                : Results.Redirect(HostedPages.LoginUrl(http, tenant.Slug, await ReturnUrlAsync(http, PromptValues.Login)));
        }

        if (user!.RequirePasswordChange)
        {
            return request.HasPromptValue(PromptValues.None)
                ? Refuse(OpenIddictConstants.Errors.InteractionRequired, "The user must change their password first.")
                : Results.Redirect(HostedPages.ChangePasswordUrl(http, tenant.Slug, await ReturnUrlAsync(http, PromptValues.Login)));
        }

        if (await CheckApplicationAsync(http, db, reads, request, tenant.Slug, user.UserId, ct) is { } refusal)
        {
            return refusal;
        }

        var grantId = await signIn.StartGrantAsync(tenant.Id, user.UserId, user.SessionId, request.ClientId!, ct);
        var principal = await principals.BuildPrincipalAsync(tenant.Id, user.UserId, user.SessionId, grantId, 0, request.ClientId!, request.GetScopes(), ct);
        if (principal is null)
        {
            // The session or the user ended between the check above and now: sign in again.
            return Results.Redirect(HostedPages.LoginUrl(http, tenant.Slug, await ReturnUrlAsync(http, PromptValues.Login)));
        }

        // auth_time (from the session, which lets the client enforce its own max_age) and amr are set by
        // BuildPrincipalAsync; the nonce is copied into the ID token by OpenIddict.
        await db.UserSessions.Where(s => s.Id == user.SessionId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, time.UtcNow()), ct);
        return Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Whose users sign in: an application's own tenant, or for the built-in console client the tenant its
    /// <c>tenant</c> parameter names (the platform tenant when absent). Null for admin clients and unknown tenants.
    /// </summary>
    private static async Task<TenantContext?> SignInTenantAsync(ScaiKeyDbContext db, IMemoryCache cache, OpenIddictRequest request, CancellationToken ct)
    {
        if (request.ClientId == ConsoleClient.ClientId)
        {
            var slug = (string?)request[ConsoleClient.TenantParameter] is { Length: > 0 } named ? named.ToLowerInvariant() : Bootstrap.PlatformTenantSlug;
            return await TenantLookup.FindBySlugAsync(db, slug, ct);
        }

        // The same cached row CheckApplicationAsync reads for consent and assignment.
        var application = await ApplicationSignIn.FindAsync(db, cache, request.ClientId, ct);
        return application is null ? null : await TenantLookup.FindAsync(db, application.TenantId, ct);
    }

    /// <summary>
    /// What the application asks of the signed-in user beyond signing in: the user's refusal on the consent page,
    /// assignment (access_denied), and consent when required and not yet given for every requested scope, or asked
    /// again with prompt=consent (the consent page; consent_required with prompt=none). Null: a code may be issued.
    /// </summary>
    private static async Task<IResult?> CheckApplicationAsync(
        HttpContext http, ScaiKeyDbContext db, UserReads reads, OpenIddictRequest request, string slug, string userId, CancellationToken ct)
    {
        if ((string?)request.GetParameter(ConsentPages.DecisionParameter) == ConsentPages.Denied)
        {
            return Refuse(OpenIddictConstants.Errors.AccessDenied, "The user did not allow the application access.");
        }

        var application = await ApplicationSignIn.FindAsync(db, http.RequestServices.GetRequiredService<IMemoryCache>(), request.ClientId, ct);
        if (!await ApplicationSignIn.AdmitsAsync(db, reads, application, userId, ct))
        {
            return Refuse(OpenIddictConstants.Errors.AccessDenied, "The user is not assigned to this application.");
        }

        if (!await ApplicationSignIn.NeedsConsentAsync(db, application, userId, request.GetScopes(), request.HasPromptValue(PromptValues.Consent), ct))
        {
            return null;
        }

        return request.HasPromptValue(PromptValues.None)
            ? Refuse(OpenIddictConstants.Errors.ConsentRequired, "The user has not allowed this application access yet.")
            : Results.Redirect(ConsentPages.Url(http, slug, await ReturnUrlAsync(http, PromptValues.Consent)));
    }

    /// <summary>
    /// This request as a GET URL to come back to after a hosted page: the same parameters, less max_age and the
    /// prompt value the page has just satisfied (kept, they would send the browser back to the same page forever).
    /// Other prompt values stay: prompt="login consent" still shows the consent page after the login page.
    /// </summary>
    private static async Task<string> ReturnUrlAsync(HttpContext http, string satisfied)
    {
        IEnumerable<KeyValuePair<string, StringValues>> parameters = http.Request.HasFormContentType
            ? await http.Request.ReadFormAsync(http.RequestAborted)
            : http.Request.Query;
        var kept = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in parameters)
        {
            if (name == Parameters.MaxAge)
            {
                continue;
            }

            foreach (var value in values)
            {
                var remaining = name == Parameters.Prompt
                    ? string.Join(' ', (value ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(v => v != satisfied))
                    : value ?? string.Empty;
                if (name != Parameters.Prompt || remaining.Length > 0)
                {
                    kept.Add(new(name, remaining));
                }
            }
        }

        return http.Request.PathBase + "/" + OAuthSetup.AuthorizePath + new QueryBuilder(kept).ToQueryString();
    }

    // An OAuth error, which OpenIddict returns to the client's (validated) redirect URI.
    private static IResult Refuse(string error, string description) => TokenEndpoints.Refuse(error, description);
}
