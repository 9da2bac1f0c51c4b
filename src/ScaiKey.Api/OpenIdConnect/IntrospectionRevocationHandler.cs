using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// RFC 7662 introspection answers <c>active: false</c> for every token the API would refuse: OpenIddict checks the
/// signature, lifetime and the caller's right to see the token; this adds what it cannot know, a revoked user,
/// session or grant, or a deleted client (<see cref="TokenRevocation"/>). Rejected as invalid_token, which OpenIddict
/// turns into the bare <c>{"active": false}</c>.
/// </summary>
internal sealed class IntrospectionRevocationHandler(IServiceProvider services) : IOpenIddictServerHandler<ValidateIntrospectionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
            .UseScopedHandler<IntrospectionRevocationHandler>()
            .SetOrder(OpenIddictServerHandlers.Introspection.ValidateAuthorizedParty.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
    {
        if (context.GenericTokenPrincipal is { } principal && await TokenRevocation.IsRevokedAsync(principal, services, context.CancellationToken))
        {
            context.Reject(OpenIddictConstants.Errors.InvalidToken, "The token has been revoked.");
        }
    }
}
