using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.OpenIdConnect;
using ScaiKey.Api.Security;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The claims a user's tokens carry, for the token and authorization endpoints: who the user is (read fresh from the
/// directory, or from the row a sign-in's password check just read), how and when the session authenticated, which
/// scopes were granted and whom the access token is for. Apart from <see cref="SignInService"/>, which decides
/// whether someone signs in at all: this only describes a user who has.
/// </summary>
internal sealed class TokenPrincipals(ScaiKeyDbContext db, UserReads reads)
{
    /// <summary>
    /// The principal a user's tokens are made from, read fresh from the directory, or null when the user may no
    /// longer have tokens (deleted, not ACTIVE, or its session ended). amr and auth_time come from the session.
    /// </summary>
    public async Task<ClaimsPrincipal?> BuildPrincipalAsync(
        string tenantId, string userId, string sessionId, string grantId, int generation, string clientId, IEnumerable<string> scopes, CancellationToken ct)
    {
        var found = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId && u.TenantId == tenantId && u.DeletedAt == null && u.Status == UserStatus.Active)
            .Join(db.UserSessions.Where(s => s.Id == sessionId && s.UserId == userId && s.RevokedAt == null), u => u.Id, s => s.UserId,
                (u, s) => new
                {
                    User = new PrincipalUser(u.Id, u.Email, u.EmailVerified, u.FirstName, u.LastName, u.DisplayName, u.Locale, u.Timezone),
                    s.Amr,
                    AuthenticatedAt = s.AuthenticatedAt ?? s.CreatedAt,
                })
            .FirstOrDefaultAsync(ct);
        return found is null
            ? null
            : await BuildPrincipalAsync(tenantId, found.User, new SessionAuthentication(found.Amr, found.AuthenticatedAt), sessionId, grantId,
                generation, clientId, scopes, ct);
    }

    /// <summary>
    /// The principal for a session just started by <see cref="SignInService.StartSessionAsync"/>, from the row its password check
    /// read: the session's transaction re-checked that the user is still ACTIVE and not deleted.
    /// </summary>
    public async Task<ClaimsPrincipal> BuildPrincipalAsync(
        string tenantId, PrincipalUser user, SessionAuthentication authentication, string sessionId, string grantId, int generation, string clientId,
        IEnumerable<string> scopes, CancellationToken ct)
    {
        // OpenIddict has already refused scopes the client holds no permission for (scaikey.admin: the console client
        // only; account: first-party applications only); the console check is repeated here so that no registration
        // mistake can ever hand a tenant application the user's admin roles.
        var granted = scopes.Where(s => s is Scopes.OpenId or Scopes.Email or Scopes.Profile or Scopes.OfflineAccess
                or OAuthSetup.GroupsScope or OAuthSetup.AccountScope
                || (s == OAuthSetup.AdminScope && clientId == ConsoleClient.ClientId))
            .Distinct(StringComparer.Ordinal).ToList();
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id);
        identity.SetClaim(ScaiKeyClaims.PrincipalType, PrincipalTypes.User);
        identity.SetClaim(ScaiKeyClaims.TenantId, tenantId);
        identity.SetClaim(ScaiKeyClaims.SessionId, sessionId);
        identity.SetClaim(ScaiKeyClaims.GrantId, grantId);
        identity.SetClaim(ScaiKeyClaims.Generation, generation);

        // How and when the user proved who they are (OpenID Connect Core 1.0 section 2): amr always an array, as
        // RFC 8176 defines it, auth_time in seconds. Both are facts of the session, so refreshes repeat them.
        identity.AddClaim(new Claim(Claims.AuthenticationMethodReference, JsonSerializer.Serialize(authentication.Methods), JsonClaimValueTypes.JsonArray));
        identity.SetClaim(Claims.AuthenticationTime, new DateTimeOffset(DateTime.SpecifyKind(authentication.AuthenticatedAt, DateTimeKind.Utc)).ToUnixTimeSeconds());
        if (granted.Contains(Scopes.Email))
        {
            identity.SetClaim(Claims.Email, user.Email);
            identity.SetClaim(Claims.EmailVerified, user.EmailVerified);
        }

        if (granted.Contains(Scopes.Profile))
        {
            var name = user.DisplayName ?? string.Join(' ', new[] { user.FirstName, user.LastName }.Where(n => !string.IsNullOrEmpty(n)));
            if (name.Length > 0)
            {
                identity.SetClaim(Claims.Name, name);
            }

            identity.SetClaim(Claims.GivenName, user.FirstName);
            identity.SetClaim(Claims.FamilyName, user.LastName);
            identity.SetClaim(Claims.Locale, user.Locale);
            identity.SetClaim(Claims.Zoneinfo, user.Timezone);
        }

        if (granted.Contains(OAuthSetup.GroupsScope))
        {
            var groups = await reads.GroupsAsync(tenantId, user.Id, ct);
            identity.SetClaims("groups", [.. groups.Select(g => g.Name).Order(StringComparer.Ordinal)]);
        }

        identity.SetScopes(granted);
        identity.SetResources(Audiences(clientId, granted));
        ClaimDestinations.Apply(identity, static type => type switch
        {
            Claims.Subject => ClaimDestinations.Both,
            // sid also in the ID token, so logout can find the session from id_token_hint when the cookie is absent.
            ScaiKeyClaims.SessionId => ClaimDestinations.Both,

            // amr also in the access token: an API may ask for a second factor before a sensitive action.
            Claims.AuthenticationMethodReference => ClaimDestinations.Both,
            ScaiKeyClaims.PrincipalType or ScaiKeyClaims.TenantId or ScaiKeyClaims.GrantId => ClaimDestinations.AccessToken,

            // The generation lives only in the refresh token, which carries every claim.
            ScaiKeyClaims.Generation => ClaimDestinations.None,
            _ => ClaimDestinations.IdentityToken,
        });
        return new ClaimsPrincipal(identity);
    }

    /// <summary>
    /// Who a user's access token is for: the application it was issued to, and ScaiKey's API only when a scope of that
    /// API was granted (scaikey.admin to the console client, account to a first-party application). A tenant
    /// application's ordinary user token therefore fails the API's audience check: it cannot act with the user's roles.
    /// </summary>
    public static IReadOnlyList<string> Audiences(string clientId, IReadOnlyCollection<string> grantedScopes) =>
        grantedScopes.Contains(OAuthSetup.AdminScope) || grantedScopes.Contains(OAuthSetup.AccountScope)
            ? [clientId, ScaiKeyClaims.Audience]
            : [clientId];
}
