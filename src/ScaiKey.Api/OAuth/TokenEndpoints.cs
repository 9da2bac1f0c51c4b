using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ScaiKey.Api.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.OAuth;

internal static class TokenEndpoints
{
    public static RouteHandlerBuilder MapTokenEndpoint(this IEndpointRouteBuilder app) =>
        app.MapPost("/" + OAuthSetup.TokenPath, ExchangeAsync).AllowAnonymous().ExcludeFromDescription();

    /// <summary>
    /// OpenIddict has already authenticated the client and checked the grant; this decides what goes in the token.
    /// </summary>
    private static IResult ExchangeAsync(HttpContext http)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");

        if (!request.IsClientCredentialsGrantType() || request.ClientId is null)
        {
            return Results.Forbid(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = OpenIddictConstants.Errors.UnsupportedGrantType,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "This grant type is not supported.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetClaim(ScaiKeyClaims.PrincipalType, "CLIENT");
        identity.SetScopes(request.GetScopes());
        identity.SetResources(ScaiKeyClaims.Audience);
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }
}
