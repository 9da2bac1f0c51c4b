using ScaiKey.Api.OpenIdConnect;
namespace ScaiKey.Api.Http;

/// <summary>
/// ScaiKey:Issuer read as this server's public origin. When it is https, browsers reach the service over https
/// whatever the request in hand says (a TLS-terminating proxy that sends no X-Forwarded-Proto, a health check
/// over plain http), so cookies are marked Secure from it rather than from the request.
/// </summary>
internal sealed class PublicOrigin
{
    public const string IssuerKey = "ScaiKey:Issuer";

    public Uri? Issuer { get; init; }

    public bool IsHttps => Issuer is { } issuer && issuer.Scheme == Uri.UriSchemeHttps;

    /// <summary>From the validated <see cref="OpenIdConnect.TokenOptions"/> (an unusable issuer stops the start there).</summary>
    public static PublicOrigin From(OpenIdConnect.TokenOptions options) =>
        options.IssuerUri is { Scheme: "https" or "http" } issuer ? new PublicOrigin { Issuer = issuer } : new PublicOrigin();
}

internal static class TransportSecurity
{
    /// <summary>A year: browsers keep using https for the identity host even after a long absence.</summary>
    public static readonly TimeSpan HstsMaxAge = TimeSpan.FromDays(365);

    public static IServiceCollection AddScaiKeyTransportSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        OpenIdConnect.TokenOptions.AddTo(services);
        services.AddSingleton(sp => PublicOrigin.From(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<OpenIdConnect.TokenOptions>>().Value));

        // Without includeSubDomains or preload: the identity host must not decide for its parent domain's other hosts.
        // ASP.NET Core sends the header only on https requests (after the forwarded scheme is applied) and never
        // for localhost, where a developer's browser would remember it for every local port.
        services.AddHsts(options =>
        {
            options.MaxAge = HstsMaxAge;
            options.IncludeSubDomains = false;
            options.Preload = false;
        });
        return services;
    }
}
