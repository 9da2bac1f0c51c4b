using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using OpenIddict.Validation.AspNetCore;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.OAuth;

internal static class OAuthSetup
{
    public const string TokenPath = "connect/token";

    public static IServiceCollection AddScaiKeyOAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ConfigureServerKeys>();

        services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<ScaiKeyDbContext>())
            .AddServer(server =>
            {
                server.SetTokenEndpointUris(TokenPath);
                server.AllowClientCredentialsFlow();
                server.DisableAccessTokenEncryption();

                // Client-credential tokens are self-contained JWTs; storing each one would cost a write per token.
                server.DisableTokenStorage();
                server.DisableAuthorizationStorage();
                server.SetAccessTokenLifetime(TimeSpan.FromMinutes(configuration.GetValue("ScaiKey:AccessTokenMinutes", 60)));
                if (configuration["ScaiKey:Issuer"] is { Length: > 0 } issuer)
                {
                    server.SetIssuer(new Uri(issuer, UriKind.Absolute));
                }

                server.UseAspNetCore()
                    .EnableTokenEndpointPassthrough()
                    .DisableTransportSecurityRequirement();
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.AddAudiences(ScaiKeyClaims.Audience);
                validation.UseAspNetCore();
            });

        services.AddAuthentication(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        return services;
    }

    /// <summary>Hands OpenIddict the database-held keys when its options are first built.</summary>
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
