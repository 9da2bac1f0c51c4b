using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using OpenIddict.Validation.AspNetCore;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.OpenIdConnect;

internal static class OAuthSetup
{
    public const string TokenPath = "connect/token";
    public const string AuthorizePath = "connect/authorize";
    public const string LogoutPath = "connect/logout";
    public const string UserinfoPath = "connect/userinfo";
    public const string IntrospectPath = "connect/introspect";
    public const string RevokePath = "connect/revoke";

    /// <summary>Scope that asks for the user's group names in the ID token and userinfo.</summary>
    public const string GroupsScope = "groups";

    /// <summary>
    /// The management API in the user's name, with the user's admin roles. Only the built-in console client
    /// (<see cref="ConsoleClient"/>) may ask for it; a token carrying it has the API as its audience.
    /// </summary>
    public const string AdminScope = "scaikey.admin";

    /// <summary>The user's own account (the self-service API); only applications marked first_party may ask for it.</summary>
    public const string AccountScope = "account";

    /// <summary>The OpenIddict server and validation, the options they read and the caches of the revocation handlers.</summary>
    public static IServiceCollection AddOpenIdConnectServer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<RevocationCache>();
        services.AddSingleton<ClientRegistrationCache>();
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ConfigureServerKeys>();

        services.AddOpenIddict()
            .AddCore(core => core.UseScaiKeyClientSecrets().UseDeferredEntityCaches().UseEntityFrameworkCore().UseDbContext<ScaiKeyDbContext>())
            .AddServer(server =>
            {
                server.SetTokenEndpointUris(TokenPath)
                    .SetAuthorizationEndpointUris(AuthorizePath)
                    .SetEndSessionEndpointUris(LogoutPath)
                    .SetUserInfoEndpointUris(UserinfoPath)
                    .SetIntrospectionEndpointUris(IntrospectPath)
                    .SetRevocationEndpointUris(RevokePath);
                server.RemoveEventHandler(OpenIddictServerHandlers.InferEndpointType.Descriptor);
                server.AddEventHandler(EndpointInference.Descriptor);
                server.RemoveEventHandler(OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<OpenIddictServerEvents.ApplyTokenResponseContext>.Descriptor);
                server.AddEventHandler(TokenResponseWriter.Descriptor);
                server.AddEventHandler(GrantRevocationHandler.Descriptor);
                server.AddEventHandler(IntrospectionRevocationHandler.Descriptor);
                server.AddEventHandler(SigningKeyHandlers.SignWithCurrentKey.Descriptor);
                server.AddEventHandler(SigningKeyHandlers.PublishKeys.Descriptor);

                server.AddEventHandler(SigningKeyHandlers.ServerAcceptsPublishedKeys.Descriptor);
                server.AllowClientCredentialsFlow()
                    .AllowAuthorizationCodeFlow()
                    .RequireProofKeyForCodeExchange()
                    .AllowRefreshTokenFlow()
                    .AllowPasswordFlow()
                    .AllowCustomFlow(MfaGrant.GrantType);
                server.RegisterScopes(Scopes.OpenId, Scopes.Email, Scopes.Profile, Scopes.OfflineAccess, GroupsScope, AdminScope, AccountScope);
                server.DisableAccessTokenEncryption();

                // PKCE with S256 only: "plain" would hand the verifier to anyone who sees the authorization request.
                server.Configure(options =>
                {
                    options.CodeChallengeMethods.Clear();
                    options.CodeChallengeMethods.Add(CodeChallengeMethods.Sha256);
                });

                // Tokens are self-contained; storing each would cost a write per token. Codes and refresh tokens are
                // made single-use by the token_grants table instead (see SignIn/TokenGrants).
                server.DisableTokenStorage();
                server.DisableAuthorizationStorage();
                server.SetAuthorizationCodeLifetime(TimeSpan.FromMinutes(2));

                server.UseAspNetCore()
                    .EnableTokenEndpointPassthrough()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .DisableTransportSecurityRequirement()
                    // Compact JSON: indentation is for people, and it cost every token response a larger buffer and
                    // a third more writer work (session 17).
                    .SuppressJsonResponseIndentation();
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.AddEventHandler(UserTokenRevocationHandler.Descriptor);
                validation.AddEventHandler(SigningKeyHandlers.ApiAcceptsPublishedKeys.Descriptor);
                validation.AddAudiences(ScaiKeyClaims.Audience);
                validation.UseAspNetCore();
            });

        // OpenIddict's handlers, found per event type once instead of on every event (IndexedServerDispatcher).
        services.AddSingleton(sp => new ServerHandlerIndex(
            sp.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>(), sp, ServerHandlerIndex.SingletonTypes(services, sp)));
        services.Replace(ServiceDescriptor.Scoped<IOpenIddictServerDispatcher, IndexedServerDispatcher>());

        services.AddAuthentication(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);

        // From the validated options rather than the raw configuration: a wrong lifetime or issuer stops the start
        // with a line naming it instead of a UriFormatException while the services are registered.
        TokenOptions.AddTo(services);
        SigningKeyOptions.AddTo(services);
        BootstrapOptions.AddTo(services);
        services.AddOptions<OpenIddictServerOptions>().Configure<IOptions<TokenOptions>>((server, tokens) =>
        {
            server.AccessTokenLifetime = TimeSpan.FromMinutes(tokens.Value.AccessTokenMinutes);
            server.RefreshTokenLifetime = TimeSpan.FromDays(tokens.Value.RefreshTokenDays);
            if (tokens.Value.IssuerUri is { } issuer)
            {
                server.Issuer = issuer;
            }
        });
        return services;
    }

    /// <summary>The protocol endpoints whose requests OpenIddict passes through: token, authorize, end session, userinfo.</summary>
    public static IEndpointRouteBuilder MapOpenIdConnectServer(this IEndpointRouteBuilder app)
    {
        app.MapTokenEndpoint();
        app.MapAuthorizeEndpoints();
        app.MapLogoutEndpoint();
        app.MapUserinfoEndpoint();
        return app;
    }

    /// <summary>
    /// Hands OpenIddict the database-held keys when its options are first built: it insists on having some, and the
    /// encryption key comes only from here. Signing, JWKS and signature checks then take the current keys from
    /// <see cref="SigningKeyHandlers"/>, so these start-up signing keys are never the last word.
    /// </summary>
    private sealed class ConfigureServerKeys(SigningKeyStore store) : IConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options)
        {
            var keys = store.Keys;
            foreach (var key in keys.SigningKeys)
            {
                options.SigningCredentials.Add(new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256));
            }

            options.EncryptionCredentials.Add(new EncryptingCredentials(
                keys.EncryptionKey, SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
        }
    }
}
