using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using ScaiKey.Api.OpenIdConnect;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.OAuth;

/// <summary>Where the built-in console client may send the browser back to (<c>ScaiKey:ConsoleClient</c>).</summary>
internal sealed class ConsoleClientOptions
{
    public const string Section = "ScaiKey:ConsoleClient";

    /// <summary>
    /// Exact redirect URIs: https, or http on a loopback address for the command line (RFC 8252). The default is the
    /// command line's loopback listener.
    /// </summary>
    public List<string> RedirectUris { get; set; } = [];

    public IReadOnlyList<string> EffectiveRedirectUris => RedirectUris.Count > 0 ? RedirectUris : [ConsoleClient.DefaultRedirectUri];

    /// <summary>
    /// The web console's own callback under the issuer ({issuer}/console/callback), registered without being
    /// configured; null without an issuer (the operator then lists it in RedirectUris). Not bound from configuration.
    /// </summary>
    public string? WebConsoleCallback { get; internal set; }

    /// <summary>What the client is registered with: the configured (or default) URIs and the web console's callback.</summary>
    public IReadOnlyList<string> RegisteredRedirectUris =>
        WebConsoleCallback is null || EffectiveRedirectUris.Contains(WebConsoleCallback, StringComparer.Ordinal)
            ? EffectiveRedirectUris
            : [.. EffectiveRedirectUris, WebConsoleCallback];
}

internal sealed class ConsoleClientOptionsValidator : IValidateOptions<ConsoleClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleClientOptions options)
    {
        var bad = options.EffectiveRedirectUris.Where(u => !IsAllowed(u)).ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{ConsoleClientOptions.Section}:RedirectUris: not an absolute https URI or loopback http URI without fragment: {string.Join(", ", bad)}");
    }

    private static bool IsAllowed(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));
}

/// <summary>
/// ScaiKey's own first-party client for the admin console and the command line: a public client (no secret to
/// leak from a browser or a laptop) that must use the code flow with PKCE, and the only client that may ask for
/// <see cref="OAuthSetup.AdminScope"/>. It is created, and its redirect URIs brought in line with the configuration,
/// at every start. Its users sign in to the tenant named by the <c>tenant</c> authorization parameter (a slug), the
/// platform tenant when absent; what they may then do through the API is what their role assignments say.
/// </summary>
internal static class ConsoleClient
{
    public const string ClientId = "scaikey-console";
    public const string DefaultRedirectUri = "http://127.0.0.1:8400/callback";

    /// <summary>The admin console's callback path (AdminConsole/ConsoleSignInEndpoints), also its post-logout address.</summary>
    public const string WebConsoleCallbackPath = "/console/callback";

    /// <summary>The authorization parameter that names the tenant whose users sign in.</summary>
    public const string TenantParameter = "tenant";

    public static IServiceCollection AddScaiKeyConsoleClient(this IServiceCollection services)
    {
        services.AddOptions<ConsoleClientOptions>().BindConfiguration(ConsoleClientOptions.Section).ValidateOnStart()
            .PostConfigure<Http.PublicOrigin>((options, origin) => options.WebConsoleCallback = origin.Issuer is { } issuer
                ? issuer.AbsoluteUri.TrimEnd('/') + WebConsoleCallbackPath
                : null);
        services.AddSingleton<IValidateOptions<ConsoleClientOptions>, ConsoleClientOptionsValidator>();
        return services;
    }

    public static async Task EnsureAsync(IOpenIddictApplicationManager applications, ConsoleClientOptions options, CancellationToken ct)
    {
        var wanted = Descriptor(options.RegisteredRedirectUris);
        if (await applications.FindByClientIdAsync(ClientId, ct) is not { } existing)
        {
            await applications.CreateAsync(wanted, ct);
            return;
        }

        var current = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(current, existing, ct);
        if (!current.RedirectUris.SetEquals(wanted.RedirectUris) || !current.Permissions.SetEquals(wanted.Permissions)
            || !current.Requirements.SetEquals(wanted.Requirements) || current.ClientType != wanted.ClientType)
        {
            await applications.UpdateAsync(existing, wanted, ct);
        }
    }

    private static OpenIddictApplicationDescriptor Descriptor(IEnumerable<string> redirectUris)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = ClientId,
            ClientType = ClientTypes.Public,
            DisplayName = "ScaiKey console",
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.EndSession,
                Permissions.Endpoints.Revocation, Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code, Permissions.Scopes.Email, Permissions.Scopes.Profile,
                Permissions.Prefixes.Scope + OAuthSetup.AdminScope,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var uri in redirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        return descriptor;
    }
}
