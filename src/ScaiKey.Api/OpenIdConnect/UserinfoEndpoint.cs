using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static OpenIddict.Abstractions.OpenIddictConstants;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

internal static class UserinfoEndpoint
{
    public static void MapUserinfoEndpoint(this IEndpointRouteBuilder app) =>
        app.MapMethods("/" + OAuthSetup.UserinfoPath, [HttpMethods.Get, HttpMethods.Post], UserinfoAsync)
            .AllowAnonymous()
            .ExcludeFromDescription();

    /// <summary>
    /// OpenIddict has validated the access token (signature, lifetime, type); this checks that it still stands and
    /// answers with the user's claims as they are now, not as they were when the token was issued.
    /// </summary>
    private static async Task<IResult> UserinfoAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] RevocationCache revocations, [FromServices] UserReads reads, CancellationToken ct)
    {
        var principal = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        var userId = principal?.GetClaim(Claims.Subject);
        var tenantId = principal?.GetClaim(ScaiKeyClaims.TenantId);
        var sessionId = principal?.GetClaim(ScaiKeyClaims.SessionId);
        var grantId = principal?.GetClaim(ScaiKeyClaims.GrantId);

        // Client-credential tokens have no user behind them; userinfo has nothing to say about a client.
        if (principal is null || principal.GetClaim(ScaiKeyClaims.PrincipalType) != PrincipalTypes.User
            || userId is null || tenantId is null || sessionId is null || grantId is null)
        {
            return InvalidToken("The access token does not belong to a user.");
        }

        // The same check the API's bearer validation makes, so userinfo refuses exactly the tokens the API refuses.
        if (!await revocations.IsActiveAsync(db, userId, sessionId, grantId, ct))
        {
            return InvalidToken("The access token has been revoked.");
        }

        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId && u.TenantId == tenantId && u.DeletedAt == null && u.Status == UserStatus.Active)
            .Select(u => new { u.Id, u.Email, u.EmailVerified, u.FirstName, u.LastName, u.DisplayName, u.Locale, u.Timezone })
            .FirstOrDefaultAsync(ct);
        if (user is null)
        {
            return InvalidToken("The access token has been revoked.");
        }

        var scopes = principal.GetScopes();
        var claims = new Dictionary<string, object>(StringComparer.Ordinal) { [Claims.Subject] = user.Id };
        if (scopes.Contains(Scopes.Email))
        {
            claims[Claims.Email] = user.Email;
            claims[Claims.EmailVerified] = user.EmailVerified;
        }

        if (scopes.Contains(Scopes.Profile))
        {
            // The same rule as the ID token's name (TokenPrincipals.BuildPrincipalAsync).
            var name = user.DisplayName ?? string.Join(' ', new[] { user.FirstName, user.LastName }.Where(n => !string.IsNullOrEmpty(n)));
            if (name.Length > 0)
            {
                claims[Claims.Name] = name;
            }

            if (user.FirstName is not null)
            {
                claims[Claims.GivenName] = user.FirstName;
            }

            if (user.LastName is not null)
            {
                claims[Claims.FamilyName] = user.LastName;
            }

            claims[Claims.Locale] = user.Locale;
            claims[Claims.Zoneinfo] = user.Timezone;
        }

        if (scopes.Contains(OAuthSetup.GroupsScope))
        {
            var groups = await reads.GroupsAsync(tenantId, userId, ct);
            claims[OAuthSetup.GroupsScope] = groups.Select(g => g.Name).Order(StringComparer.Ordinal).ToArray();
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(claims);
    }

    /// <summary>401 with WWW-Authenticate: Bearer error="invalid_token", written by OpenIddict (RFC 6750).</summary>
    private static IResult InvalidToken(string description) =>
        Results.Challenge(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = OpenIddictConstants.Errors.InvalidToken,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
