using System.Security.Claims;
using OpenIddict.Abstractions;
using OpenIddict.Validation;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using static OpenIddict.Validation.OpenIddictValidationEvents;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// A user's access token is a self-contained JWT; this rejects one whose user, session or token grant was revoked
/// since (disable, lock, terminate_sessions, reset, MFA disable, delete, refresh-token reuse, application delete),
/// and a client-credential token whose client was deleted, so it stops working on this API at once rather than
/// when it expires.
/// </summary>
internal sealed class UserTokenRevocationHandler(IServiceProvider services) : IOpenIddictValidationHandler<ProcessAuthenticationContext>
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
            && await TokenRevocation.IsRevokedAsync(principal, services, context.CancellationToken))
        {
            context.Reject(OpenIddictConstants.Errors.InvalidToken, "The access token has been revoked.");
        }
    }
}

/// <summary>What the API checks on every request beyond the token itself; introspection asks the same.</summary>
internal static class TokenRevocation
{
    /// <summary>
    /// Whether a validated token is refused now: a user token whose user, session or grant was revoked, or a
    /// client-credential token whose client no longer exists. Tokens of neither kind have nothing to revoke.
    /// </summary>
    public static ValueTask<bool> IsRevokedAsync(ClaimsPrincipal principal, IServiceProvider services, CancellationToken ct) =>
        principal.GetClaim(ScaiKeyClaims.PrincipalType) switch
        {
            PrincipalTypes.User => UserTokenRevocation.IsRevokedAsync(principal, services, ct),
            PrincipalTypes.Client => ClientGoneAsync(principal, services, ct),
            _ => ValueTask.FromResult(false),
        };

    private static async ValueTask<bool> ClientGoneAsync(ClaimsPrincipal principal, IServiceProvider services, CancellationToken ct) =>
        principal.GetClaim(OpenIddictConstants.Claims.Subject) is not { } clientId
        || !await services.GetRequiredService<ClientRegistrationCache>().ExistsAsync(services, clientId, ct);
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
