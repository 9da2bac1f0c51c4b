using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace ScaiKey.Api.Federation.Oidc;

/// <summary>
/// Upstream providers' discovery documents and signing keys, through Microsoft.IdentityModel's
/// <see cref="ConfigurationManager{T}"/>: one per issuer for the process, so keys are fetched once and refreshed on
/// its schedule, and on demand when an ID token names a key the cached set lacks (the provider rotated its keys).
/// Also the HTTP client every call to a provider uses (its timeout is ScaiKey:Federation:ProviderTimeoutSeconds).
/// </summary>
internal sealed class OidcDiscovery : IDisposable
{
    // A forced refresh at most this often per issuer: a token naming an unknown key cannot make ScaiKey hammer the provider.
    private static readonly TimeSpan ForcedRefreshInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Entry> _managers = new(StringComparer.Ordinal);
    private readonly bool _allowHttp;
    private readonly TimeProvider _time;

    public OidcDiscovery(IOptions<FederationOptions> options, TimeProvider time)
    {
        _allowHttp = options.Value.AllowHttpProviders;
        _time = time;

        // Pooled connections are recycled so DNS changes of a provider are followed.
        Http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
        {
            Timeout = TimeSpan.FromSeconds(options.Value.ProviderTimeoutSeconds),

            // A discovery document, key set or token response is a few KiB: a hostile endpoint cannot fill memory.
            MaxResponseContentBufferSize = 1024 * 1024,
        };
    }

    public HttpClient Http { get; }

    /// <summary>Whether an endpoint a discovery document names may be called: https, or http where the operator allows it.</summary>
    public bool IsAllowedEndpoint(Uri? endpoint) =>
        endpoint is { IsAbsoluteUri: true } && (endpoint.Scheme == Uri.UriSchemeHttps || (_allowHttp && endpoint.Scheme == Uri.UriSchemeHttp));

    /// <summary>The issuer's configuration (discovery document and its JWKS); throws when the provider cannot be read.</summary>
    public Task<OpenIdConnectConfiguration> GetAsync(string issuer, CancellationToken ct) => Manager(issuer).Manager.GetConfigurationAsync(ct);

    /// <summary>
    /// A fresh configuration after a token named a key the cached one lacks. The manager is asked to refresh; if it
    /// hands back the same configuration (its own minimum interval, or a refresh it runs in the background), a new
    /// manager fetches it now. Null when a forced refresh of this issuer happened moments ago.
    /// </summary>
    public async Task<OpenIdConnectConfiguration?> RefreshAsync(string issuer, OpenIdConnectConfiguration stale, CancellationToken ct)
    {
        var entry = Manager(issuer);
        var now = _time.GetUtcNow();
        if (entry.LastForced is { } last && now - last < ForcedRefreshInterval)
        {
            return null;
        }

        entry.LastForced = now;
        entry.Manager.RequestRefresh();
        var fresh = await entry.Manager.GetConfigurationAsync(ct);
        if (!ReferenceEquals(fresh, stale))
        {
            return fresh;
        }

        var replacement = new Entry(NewManager(issuer)) { LastForced = now };
        _managers[issuer] = replacement;
        return await replacement.Manager.GetConfigurationAsync(ct);
    }

    public void Dispose() => Http.Dispose();

    private Entry Manager(string issuer) => _managers.GetOrAdd(issuer, i => new Entry(NewManager(i)));

    private ConfigurationManager<OpenIdConnectConfiguration> NewManager(string issuer) =>
        new(issuer.TrimEnd('/') + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(Http) { RequireHttps = !_allowHttp })
        {
            AutomaticRefreshInterval = TimeSpan.FromHours(12),
            RefreshInterval = ForcedRefreshInterval,
        };

    private sealed class Entry(ConfigurationManager<OpenIdConnectConfiguration> manager)
    {
        public ConfigurationManager<OpenIdConnectConfiguration> Manager { get; } = manager;

        public DateTimeOffset? LastForced { get; set; }
    }
}
