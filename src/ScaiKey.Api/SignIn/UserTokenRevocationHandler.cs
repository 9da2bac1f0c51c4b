using OpenIddict.Abstractions;
using OpenIddict.Validation;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// A user's access token is a self-contained JWT; this rejects one whose user, session or token grant was revoked
/// since (disable, lock, terminate_sessions, reset, MFA disable, delete, refresh-token reuse), so it stops
/// working on this API at once rather than when it expires.
/// </summary>
internal sealed class UserTokenRevocationHandler(ScaiKeyDbContext db, RevocationCache revocations) : IOpenIddictValidationHandler<ProcessAuthenticationContext>
{
    public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
        OpenIddictValidationHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseScopedHandler<UserTokenRevocationHandler>()
            .SetOrder(OpenIddictValidationHandlers.ValidateAccessToken.Descriptor.Order + 1_000)
            .SetType(OpenIddictValidationHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        var principal = context.AccessTokenPrincipal;
        if (principal is null || principal.GetClaim(ScaiKeyClaims.PrincipalType) != PrincipalTypes.User)
        {
            return;
        }

        var subject = principal.GetClaim(OpenIddictConstants.Claims.Subject);
        var session = principal.GetClaim(ScaiKeyClaims.SessionId);
        var grant = principal.GetClaim(ScaiKeyClaims.GrantId);
        if (subject is null || session is null || grant is null
            || !await revocations.IsActiveAsync(db, subject, session, grant, context.CancellationToken))
        {
            context.Reject(OpenIddictConstants.Errors.InvalidToken, "The access token has been revoked.");
        }
    }
}
