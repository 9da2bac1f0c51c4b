using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;

namespace ScaiKey.Api.Federation;

/// <summary>An enabled sign-in provider (OIDC or SAML) of a tenant, as the hosted login offers it.</summary>
internal sealed record LoginProvider(string Id, string Name, string Type, IReadOnlyList<string> Domains, string? Origin);

/// <summary>A "Sign in with …" link of the login page.</summary>
public sealed record LoginProviderLink(string Text, string Href);

/// <summary>
/// What the hosted login knows of the tenant's identity providers: a "Sign in with …" link per enabled OIDC and
/// SAML provider, and home-realm discovery (an email whose domain a provider lists in <c>domains</c> goes straight
/// to that provider, no password asked).
/// </summary>
internal static class FederationLogin
{
    public static async Task<IReadOnlyList<LoginProvider>> ProvidersAsync(ScaiKeyDbContext db, string tenantId, CancellationToken ct)
    {
        var rows = await db.IdentityProviders.AsNoTracking()
            .Where(p => p.TenantId == tenantId && p.Enabled && (p.Type == "OIDC" || p.Type == "SAML"))
            .OrderBy(p => p.Name).ThenBy(p => p.Id)
            .Select(p => new { p.Id, p.Name, p.Type, p.ConfigJson })
            .ToListAsync(ct);
        return rows.Select(p => new LoginProvider(p.Id, p.Name, p.Type, FederationProviderSettings.Read(p.ConfigJson).Domains,
            Origin(p.ConfigJson, p.Type == "OIDC" ? "issuer" : "sso_url"))).ToList();
    }

    public static string StartUrl(HttpContext http, TenantContext tenant, LoginProvider provider, string? returnUrl) =>
        $"{http.Request.PathBase}/t/{tenant.Slug}/federation/{Uri.EscapeDataString(provider.Id)}/{provider.Type.ToLowerInvariant()}/start"
        + (returnUrl is null ? string.Empty : "?return_url=" + Uri.EscapeDataString(returnUrl));

    public static IReadOnlyList<LoginProviderLink> Links(HttpContext http, TenantContext tenant, IReadOnlyList<LoginProvider> providers, string? returnUrl) =>
        providers.Select(p => new LoginProviderLink("Sign in with " + p.Name, StartUrl(http, tenant, p, returnUrl))).ToList();

    /// <summary>The provider whose <c>domains</c> hold the email's domain (first by name), or null.</summary>
    public static LoginProvider? ForEmail(IReadOnlyList<LoginProvider> providers, string email)
    {
        var normalized = EmailAddresses.Normalize(email);
        var at = normalized.LastIndexOf('@');
        if (at <= 0 || at == normalized.Length - 1)
        {
            return null;
        }

        var domain = normalized[(at + 1)..];
        return providers.FirstOrDefault(p => p.Domains.Contains(domain, StringComparer.Ordinal));
    }

    /// <summary>
    /// Browsers apply the login page's form-action to every redirect after its POST: home-realm discovery answers the
    /// POST with a redirect that ends at the provider, so the origins of providers with domains are allowed too (the
    /// issuer's, or the SAML sign-on URL's; form-action comes last in the hosted pages' policy).
    /// </summary>
    public static void AllowDiscoveryRedirects(HttpContext http, IReadOnlyList<LoginProvider> providers)
    {
        var origins = providers.Where(p => p.Domains.Count > 0 && p.Origin is not null).Select(p => p.Origin!).Distinct(StringComparer.Ordinal).ToList();
        if (origins.Count > 0)
        {
            http.Response.Headers.ContentSecurityPolicy = http.Response.Headers.ContentSecurityPolicy + " " + string.Join(' ', origins);
        }
    }

    private static string? Origin(string configJson, string key) =>
        JsonNode.Parse(configJson)?[key] is JsonValue v && v.TryGetValue<string>(out var url)
        && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? uri.GetLeftPart(UriPartial.Authority)
            : null;
}
