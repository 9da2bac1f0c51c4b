using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using ScaiKey.Api.IdentityProviders;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>A SAML provider's settings, resolved from its config, its secrets and (when given by URL) its metadata.</summary>
internal sealed record SamlProvider(
    IdentityProvider Entity,
    string IdpEntityId,
    string SsoUrl,
    IReadOnlyList<X509Certificate2> Certificates,
    bool WantAssertionsSigned,
    string? EmailAttribute,
    string? FirstNameAttribute,
    string? LastNameAttribute);

/// <summary>The SP's own signing key and certificate for one provider (sp_private_key sealed, sp_certificate).</summary>
internal sealed record SamlSpKey(RSA Key, X509Certificate2 Certificate) : IDisposable
{
    public void Dispose() => Key.Dispose();
}

/// <summary>Reads SAML providers: by id, with their settings resolved; IdP metadata by URL is fetched and kept 10 minutes.</summary>
internal sealed class SamlProviders(
    ScaiKeyDbContext db, KeyRing keyRing, IHttpClientFactory clients, IMemoryCache cache, IOptions<FederationOptions> options)
{
    public const string MetadataClient = "scaikey-saml-metadata";
    private static readonly TimeSpan MetadataLifetime = TimeSpan.FromMinutes(10);

    public Task<IdentityProvider?> FindAsync(string providerId, CancellationToken ct) =>
        providerId.Length is 0 or > 36
            ? Task.FromResult<IdentityProvider?>(null)
            : db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId && p.Type == "SAML", ct);

    /// <summary>The SP key of the provider, null when none is configured; throws nothing (an unusable key is null too, and reported).</summary>
    public SamlSpKey? SpKey(IdentityProvider provider, out bool unusable)
    {
        var (plain, secrets) = IdentityProviderConfig.Load(keyRing, provider.Id, provider.Type, provider.ConfigJson, provider.SealedSecrets);
        var keyText = SamlConfig.String(secrets, SamlConfig.SpPrivateKey);
        var certificateText = SamlConfig.String(plain, SamlConfig.SpCertificate);
        unusable = false;
        if (keyText is null && certificateText is null)
        {
            return null;
        }

        var key = keyText is null ? null : SamlXml.ParseRsaKey(keyText);
        var certificate = certificateText is null ? null : SamlXml.ParseCertificate(certificateText);
        if (key is null || certificate is null)
        {
            key?.Dispose();
            unusable = true;
            return null;
        }

        return new SamlSpKey(key, certificate);
    }

    /// <summary>The provider's resolved settings, or null with a secret-free reason (metadata unreachable or incomplete).</summary>
    public async Task<(SamlProvider? Provider, string? Error)> ResolveAsync(IdentityProvider provider, CancellationToken ct)
    {
        var plain = IdentityProviderConfig.Parse(provider.ConfigJson);
        SamlIdpMetadata? metadata = null;
        var entityId = SamlConfig.String(plain, SamlConfig.EntityId);
        if (SamlConfig.String(plain, SamlConfig.MetadataXml) is { } xml)
        {
            metadata = SamlIdpMetadata.Parse(xml, entityId, out _);
        }
        else if (SamlConfig.String(plain, SamlConfig.MetadataUrl) is { } url)
        {
            metadata = await FetchMetadataAsync(provider.Id, url, entityId, ct);
            if (metadata is null)
            {
                return (null, "metadata_unavailable");
            }
        }

        var certificates = SamlConfig.ReadCertificates(plain, errors: null) ?? metadata?.Certificates.ToList() ?? [];
        var ssoUrl = SamlConfig.String(plain, SamlConfig.SsoUrl) ?? metadata?.SsoUrl;
        entityId ??= metadata?.EntityId;
        if (entityId is null || ssoUrl is null || certificates.Count == 0
            || !SamlConfig.IsHttpsUrl(ssoUrl, options.Value.AllowHttpProviders))
        {
            return (null, "provider_incomplete");
        }

        return (new SamlProvider(provider, entityId, ssoUrl, certificates,
            SamlConfig.Bool(plain, SamlConfig.WantAssertionsSigned) ?? true,
            SamlConfig.String(plain, SamlConfig.EmailAttribute),
            SamlConfig.String(plain, SamlConfig.FirstNameAttribute),
            SamlConfig.String(plain, SamlConfig.LastNameAttribute)), null);
    }

    private async Task<SamlIdpMetadata?> FetchMetadataAsync(string providerId, string url, string? entityId, CancellationToken ct)
    {
        var key = (MetadataClient, providerId, url, entityId);
        if (cache.TryGetValue(key, out SamlIdpMetadata? cached))
        {
            return cached;
        }

        if (!SamlConfig.IsHttpsUrl(url, options.Value.AllowHttpProviders))
        {
            return null;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.ProviderTimeoutSeconds));
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/samlmetadata+xml"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/xml", 0.9));
            using var response = await clients.CreateClient(MetadataClient).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode || response.Content.Headers.ContentLength > SamlIdpMetadata.MaxCharacters)
            {
                return null;
            }

            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new byte[SamlIdpMetadata.MaxCharacters + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token)) > 0)
            {
                length += read;
            }

            if (length > SamlIdpMetadata.MaxCharacters)
            {
                return null;
            }

            var metadata = SamlIdpMetadata.Parse(System.Text.Encoding.UTF8.GetString(buffer, 0, length), entityId, out _);
            if (metadata is not null)
            {
                cache.Set(key, metadata, MetadataLifetime);
            }

            return metadata;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }
}
