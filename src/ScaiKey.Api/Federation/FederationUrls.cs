using ScaiKey.Api.Http;

namespace ScaiKey.Api.Federation;

/// <summary>
/// The addresses an operator registers at the upstream provider. They name the provider by its id, never the
/// tenant's slug (which an admin may rename), so they stay the same for the provider's whole life; the base is
/// ScaiKey:Issuer when set, else the request's own origin and path base.
/// </summary>
internal static class FederationUrls
{
    public const string Prefix = "/federation";

    public static string Base(HttpContext http)
    {
        var origin = http.RequestServices.GetRequiredService<PublicOrigin>();
        return origin.Issuer is { } issuer
            ? issuer.GetLeftPart(UriPartial.Path).TrimEnd('/')
            : $"{http.Request.Scheme}://{http.Request.Host.Value}{http.Request.PathBase}";
    }

    /// <summary>OIDC: the redirect_uri (callback) of the authorization code flow.</summary>
    public static string OidcCallback(HttpContext http, string providerId) => $"{Base(http)}{Prefix}/{providerId}/oidc/callback";

    /// <summary>SAML: the service provider's entity id.</summary>
    public static string SamlEntityId(HttpContext http, string providerId) => $"{Base(http)}{Prefix}/{providerId}/saml";

    /// <summary>SAML: the Assertion Consumer Service (HTTP-POST binding).</summary>
    public static string SamlAcs(HttpContext http, string providerId) => $"{Base(http)}{Prefix}/{providerId}/saml/acs";

    /// <summary>SAML: the service provider's metadata document.</summary>
    public static string SamlMetadata(HttpContext http, string providerId) => $"{Base(http)}{Prefix}/{providerId}/saml/metadata";
}
