using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using static OpenIddict.Server.OpenIddictServerEvents;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// RFC 7009 revocation for self-contained tokens: OpenIddict has authenticated the client and validated the token
/// (it must have been issued to that client); revoking ends the token's whole grant (its refresh chain and the
/// access tokens issued from it), since there is no per-token entry to mark.
/// </summary>
internal sealed class GrantRevocationHandler(ScaiKeyDbContext db, RevocationCache revocations, TimeProvider time)
    : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .UseScopedHandler<GrantRevocationHandler>()
            // After OpenIddict attaches the validated token's principal (which this reads) and before its own RevokeToken
            // (which needs token storage). Not at AttachPrincipal's own order: handlers of equal order run in whatever
            // order the sort leaves them, and a change to the handler list put this one first (session 17).
            .SetOrder(OpenIddictServerHandlers.Revocation.AttachPrincipal.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        var grantId = principal?.GetClaim(ScaiKeyClaims.GrantId);
        var userId = principal?.GetClaim(OpenIddictConstants.Claims.Subject);
        if (grantId is not null && userId is not null)
        {
            var now = time.UtcNow();
            await db.TokenGrants.Where(g => g.Id == grantId && g.UserId == userId && g.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, "revoked_by_client"), context.CancellationToken);
            revocations.EvictUser(userId);
        }

        // Client-credential tokens have no grant to end; RFC 7009 still answers 200 for tokens it cannot revoke.
        context.HandleRequest();
    }
}
