using OpenIddict.Server;
using OpenIddict.Validation;
using ServerEvents = OpenIddict.Server.OpenIddictServerEvents;
using ValidationEvents = OpenIddict.Validation.OpenIddictValidationEvents;

namespace ScaiKey.Api.OAuth;

/// <summary>
/// OpenIddict reads its keys from options built once per process; these handlers hand it the database-held keys
/// of <see cref="SigningKeyStore"/> per operation instead, so a rotation (here or on another instance) takes effect
/// without a restart and without mutating shared options that concurrent requests are reading.
/// </summary>
internal static class SigningKeyHandlers
{
    /// <summary>New tokens are signed with the newest key.</summary>
    internal sealed class SignWithCurrentKey(SigningKeyStore store) : IOpenIddictServerHandler<ServerEvents.GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ServerEvents.GenerateTokenContext>()
                .UseSingletonHandler<SignWithCurrentKey>()
                .SetOrder(OpenIddictServerHandlers.Protection.AttachSecurityCredentials.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ServerEvents.GenerateTokenContext context)
        {
            var keys = await store.CurrentAsync(context.CancellationToken);
            context.SigningCredentials = keys.SigningCredentials;
        }
    }

    /// <summary>The JWKS document lists every published key (public halves only), not the start-up set.</summary>
    internal sealed class PublishKeys(SigningKeyStore store, TimeProvider time) : IOpenIddictServerHandler<ServerEvents.HandleJsonWebKeySetRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ServerEvents.HandleJsonWebKeySetRequestContext>()
                .UseSingletonHandler<PublishKeys>()
                .SetOrder(OpenIddictServerHandlers.Discovery.AttachSigningKeys.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ServerEvents.HandleJsonWebKeySetRequestContext context)
        {
            var keys = await store.CurrentAsync(context.CancellationToken);
            context.Keys.Clear();
            context.Keys.AddRange(keys.JsonWebKeys(time.GetUtcNow()));
        }
    }

    /// <summary>
    /// Codes, refresh tokens and ID token hints that come back to the server are checked against every published key,
    /// re-reading the table first when the token names a key this instance has not seen yet.
    /// </summary>
    internal sealed class ServerAcceptsPublishedKeys(SigningKeyStore store, TimeProvider time) : IOpenIddictServerHandler<ServerEvents.ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ServerEvents.ValidateTokenContext>()
                .UseSingletonHandler<ServerAcceptsPublishedKeys>()
                .SetOrder(OpenIddictServerHandlers.Protection.ValidateIdentityModelToken.Descriptor.Order - 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ServerEvents.ValidateTokenContext context)
        {
            // Client assertions are checked against the client's own keys through a resolver; leave those alone.
            if (context.TokenValidationParameters is not { IssuerSigningKeyResolver: null } parameters || context.SecurityTokenHandler is null)
            {
                return;
            }

            var keyId = SigningKeyStore.SigningKeyIdOf(context.Token, context.SecurityTokenHandler, parameters);
            var keys = await store.ForKeyIdAsync(keyId, context.CancellationToken);
            parameters.IssuerSigningKeys = keys.ValidationKeys(time.GetUtcNow());
        }
    }

    /// <summary>Access tokens presented to the API (validation with the local server) are checked the same way.</summary>
    internal sealed class ApiAcceptsPublishedKeys(SigningKeyStore store, TimeProvider time) : IOpenIddictValidationHandler<ValidationEvents.ValidateTokenContext>
    {
        public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
            OpenIddictValidationHandlerDescriptor.CreateBuilder<ValidationEvents.ValidateTokenContext>()
                .UseSingletonHandler<ApiAcceptsPublishedKeys>()
                .SetOrder(OpenIddictValidationHandlers.Protection.ValidateIdentityModelToken.Descriptor.Order - 500)
                .SetType(OpenIddictValidationHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidationEvents.ValidateTokenContext context)
        {
            if (context.TokenValidationParameters is not { } parameters || context.SecurityTokenHandler is null)
            {
                return;
            }

            var keyId = SigningKeyStore.SigningKeyIdOf(context.Token, context.SecurityTokenHandler, parameters);
            var keys = await store.ForKeyIdAsync(keyId, context.CancellationToken);
            parameters.IssuerSigningKeys = keys.ValidationKeys(time.GetUtcNow());
        }
    }
}
