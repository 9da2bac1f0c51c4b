using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

internal static class TokenEndpoints
{
    public static RouteHandlerBuilder MapTokenEndpoint(this IEndpointRouteBuilder app) =>
        app.MapPost("/" + OAuthSetup.TokenPath, ExchangeAsync).AllowAnonymous().ExcludeFromDescription();

    /// <summary>
    /// OpenIddict has already authenticated the client, checked that it may use the grant, and validated any code
    /// (with PKCE and redirect URI) or refresh token; this decides who the token is for and what it carries.
    /// </summary>
    private static async Task<IResult> ExchangeAsync(HttpContext http, CancellationToken ct)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");
        var result = await DecideAsync(http, request, ct);

        // scaikey.tokens.issued, counted where every grant's tokens are decided. (An OpenIddict handler on the token
        // response did the same, but its registration left the revocation handler without effect; not understood yet.)
        if (result is Microsoft.AspNetCore.Http.HttpResults.SignInHttpResult && request.GrantType is { Length: > 0 } grantType)
        {
            http.RequestServices.GetRequiredService<Telemetry.ScaiKeyMetrics>().TokenIssued(grantType);
        }

        return result;
    }

    private static async Task<IResult> DecideAsync(HttpContext http, OpenIddictRequest request, CancellationToken ct)
    {

        // The hot path: a client-credential token needs no database context or sign-in services, so none is built.
        if (request.IsClientCredentialsGrantType() && request.ClientId is not null)
        {
            return ClientCredentials(request);
        }

        var services = http.RequestServices;
        var db = services.GetRequiredService<ScaiKeyDbContext>();
        var signIn = services.GetRequiredService<SignInService>();
        if (request.IsPasswordGrantType())
        {
            return await PasswordAsync(http, request, db, signIn, ct);
        }

        if (request.GrantType == MfaGrant.GrantType)
        {
            return await MfaGrant.ExchangeAsync(http, request, db, signIn, ct);
        }

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            var presented = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
            return presented is null
                ? Refuse(OpenIddictConstants.Errors.InvalidGrant, "The grant is not valid.")
                : await ContinueAsync(request, presented, db, services, services.GetRequiredService<TimeProvider>(),
                    services.GetRequiredService<RevocationCache>(), ct);
        }

        return Refuse(OpenIddictConstants.Errors.UnsupportedGrantType, "This grant type is not supported.");
    }

    private static IResult ClientCredentials(OpenIddictRequest request)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetClaim(ScaiKeyClaims.PrincipalType, PrincipalTypes.Client);
        identity.SetScopes(request.GetScopes());

        // A client's own token is for ScaiKey's API: admin clients act there with their roles, applications with
        // their assignments (Authorization/ManagementToken.cs).
        identity.SetResources(ScaiKeyClaims.Audience);
        ClaimDestinations.Apply(identity, static _ => ClaimDestinations.AccessToken);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>The resource-owner password grant: username is the email, the tenant is the application's.</summary>
    private static async Task<IResult> PasswordAsync(HttpContext http, OpenIddictRequest request, ScaiKeyDbContext db, SignInService signIn, CancellationToken ct)
    {
        var cache = http.RequestServices.GetRequiredService<IMemoryCache>();
        var application = await ApplicationSignIn.FindAsync(db, cache, request.ClientId, ct);
        var tenant = application is null ? null : await TenantLookup.FindCachedAsync(db, cache, application.TenantId, ct);
        if (tenant is null || string.IsNullOrEmpty(request.Username) || string.IsNullOrEmpty(request.Password))
        {
            return Refuse(OpenIddictConstants.Errors.InvalidGrant, "Invalid email or password.");
        }

        // The abuse limits (failures per IP and per account) are consulted inside the check, before the hash.
        var result = await signIn.CheckPasswordAsync(tenant, request.Username, request.Password, ct);
        switch (result.Outcome)
        {
            case SignInOutcome.Limited:
                return Errors.Problems.TooManyRequests(result.RetryAfter);
            case SignInOutcome.Busy:
                return Errors.Problems.Busy(result.RetryAfter);
            case not SignInOutcome.Success:
                return Refuse(OpenIddictConstants.Errors.InvalidGrant, result.Describe());
        }

        // Told only to a caller who knew the password, like the account's status.
        if (!await ApplicationSignIn.AdmitsAsync(db, http.RequestServices.GetRequiredService<UserReads>(), application, result.UserId!, ct))
        {
            return Refuse(OpenIddictConstants.Errors.InvalidGrant, "The user is not assigned to this application.");
        }

        if (result.PasswordChangeRequired)
        {
            await signIn.RecordSuccessAsync(result, ct);
            return Refuse(OpenIddictConstants.Errors.InvalidGrant, "A password change is required before signing in; use the hosted sign-in page.");
        }

        // A confirmed second factor (or the tenant's MFA policy) stands between the password and the tokens.
        if (await MfaGrant.SecondFactorNeededAsync(http, request, tenant, result, ct) is { } secondFactor)
        {
            return secondFactor;
        }

        if (await signIn.StartSessionAsync(result, http, request.ClientId!, ct) is not { GrantId: { } grantId } started)
        {
            return Refuse(OpenIddictConstants.Errors.InvalidGrant, "Invalid email or password.");
        }

        var principal = await http.RequestServices.GetRequiredService<TokenPrincipals>().BuildPrincipalAsync(
            tenant.Id, result.User!, started.Authentication, started.SessionId, grantId, 0, request.ClientId!, request.GetScopes(), ct);
        return Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Redeems a code once, or rotates a refresh token: the grant row moves forward only from the state the
    /// presented token was issued in. A second use of either revokes the whole grant, so whoever holds a copy
    /// (the thief or the client) finds every token of the chain dead.
    /// </summary>
    private static async Task<IResult> ContinueAsync(
        OpenIddictRequest request, ClaimsPrincipal presented, ScaiKeyDbContext db, IServiceProvider services,
        TimeProvider time, RevocationCache revocations, CancellationToken ct)
    {
        var tenantId = presented.GetClaim(ScaiKeyClaims.TenantId);
        var userId = presented.GetClaim(Claims.Subject);
        var sessionId = presented.GetClaim(ScaiKeyClaims.SessionId);
        var grantId = presented.GetClaim(ScaiKeyClaims.GrantId);
        if (tenantId is null || userId is null || sessionId is null || grantId is null)
        {
            return Refuse(OpenIddictConstants.Errors.InvalidGrant, "The grant is not valid.");
        }

        // An application that admits only assigned users stops renewing the tokens of a user unassigned since the
        // sign-in. The grant stays as it is: assigned again, the same refresh token works again.
        var application = await ApplicationSignIn.FindAsync(db, services.GetRequiredService<IMemoryCache>(), request.ClientId, ct);
        if (!await ApplicationSignIn.AdmitsAsync(db, services.GetRequiredService<UserReads>(), application, userId, ct))
        {
            return Refuse(OpenIddictConstants.Errors.InvalidGrant, "The user is not assigned to this application.");
        }

        var now = time.UtcNow();
        int nextGeneration;
        int advanced;
        if (request.IsAuthorizationCodeGrantType())
        {
            nextGeneration = 1;
            advanced = await db.TokenGrants
                .Where(g => g.Id == grantId && g.UserId == userId && g.CodeRedeemedAt == null && g.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.CodeRedeemedAt, now).SetProperty(g => g.RefreshGeneration, 1), ct);
        }
        else
        {
            var generation = int.TryParse(presented.GetClaim(ScaiKeyClaims.Generation), out var g0) ? g0 : -1;
            nextGeneration = generation + 1;
            advanced = await db.TokenGrants
                .Where(g => g.Id == grantId && g.UserId == userId && g.RefreshGeneration == generation && g.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.RefreshGeneration, nextGeneration).SetProperty(g => g.LastRefreshedAt, now), ct);
        }

        if (advanced == 0)
        {
            var reason = request.IsAuthorizationCodeGrantType() ? "code_reuse" : "refresh_token_reuse";
            await db.TokenGrants.Where(g => g.Id == grantId && g.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, reason), ct);
            revocations.EvictUser(userId);
            return Refuse(OpenIddictConstants.Errors.InvalidGrant, "The grant has already been used or was revoked.");
        }

        await db.UserSessions.Where(s => s.Id == sessionId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now), ct);
        // The scopes of the sign-in, less account once the application is no longer first-party: a refresh token
        // outlives the tenant admin's decision, and OpenIddict checks permissions only for scopes a request names.
        var scopes = presented.GetScopes().Where(s => s != OAuthSetup.AccountScope || application is { FirstParty: true });
        var principal = await services.GetRequiredService<TokenPrincipals>()
            .BuildPrincipalAsync(tenantId, userId, sessionId, grantId, nextGeneration, request.ClientId!, scopes, ct);

        // auth_time and amr are facts of the session (its sign-in or a later step-up), not of this refresh:
        // BuildPrincipalAsync reads them from the session row.
        return principal is null
            ? Refuse(OpenIddictConstants.Errors.InvalidGrant, "The user can no longer sign in, or the session has ended.")
            : Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>An OAuth error answer from a passthrough endpoint, rendered by OpenIddict.</summary>
    internal static IResult Refuse(string error, string description) =>
        Results.Forbid(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
