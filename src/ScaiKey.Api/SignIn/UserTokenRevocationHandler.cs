using System.Security.Claims;
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
        if (context.AccessTokenPrincipal is { } principal
            && await UserTokenRevocation.IsRevokedAsync(principal, db, revocations, context.CancellationToken))
        {
            context.Reject(OpenIddictConstants.Errors.InvalidToken, "The access token has been revoked.");
        }
    }
}

internal static class UserTokenRevocation
{
    /// <summary>Whether a validated access token was issued to a user whose user, session or grant was revoked since.</summary>
    public static async ValueTask<bool> IsRevokedAsync(ClaimsPrincipal principal, ScaiKeyDbContext db, RevocationCache revocations, CancellationToken ct)
    {
        if (principal.GetClaim(ScaiKeyClaims.PrincipalType) != PrincipalTypes.User)
        {
            return false;
        }

        var subject = principal.GetClaim(OpenIddictConstants.Claims.Subject);
        var session = principal.GetClaim(ScaiKeyClaims.SessionId);
        var grant = principal.GetClaim(ScaiKeyClaims.GrantId);
        return subject is null || session is null || grant is null || !await revocations.IsActiveAsync(db, subject, session, grant, ct);
    }

    /// <summary>As above, resolving the database only for user tokens (client tokens have nothing to revoke here).</summary>
    public static ValueTask<bool> IsRevokedAsync(ClaimsPrincipal principal, IServiceProvider services, CancellationToken ct) =>
        principal.GetClaim(ScaiKeyClaims.PrincipalType) != PrincipalTypes.User
            ? ValueTask.FromResult(false)
            : IsRevokedAsync(principal, services.GetRequiredService<ScaiKeyDbContext>(), services.GetRequiredService<RevocationCache>(), ct);
}
