using Microsoft.Extensions.Options;

namespace ScaiKey.Api.Federation;

/// <summary>ScaiKey:Federation: how the service talks to the identity providers tenants register.</summary>
internal sealed class FederationOptions
{
    public const string Section = "ScaiKey:Federation";

    /// <summary>
    /// Accept http:// (not only https://) for OIDC issuers and SAML endpoints. Off in production: an upstream's
    /// discovery document, keys and tokens must not travel in clear. The tests' peers listen on plain loopback http.
    /// </summary>
    public bool AllowHttpProviders { get; set; }

    /// <summary>How long a federated sign-in may take at the provider (state, nonce, AuthnRequest kept this long).</summary>
    public int RequestLifetimeSeconds { get; set; } = 600;

    /// <summary>Timeout of each call to a provider (discovery, keys, token endpoint, LDAP operations).</summary>
    public int ProviderTimeoutSeconds { get; set; } = 10;
}

internal sealed class FederationOptionsValidator : IValidateOptions<FederationOptions>
{
    public ValidateOptionsResult Validate(string? name, FederationOptions options)
    {
        var failures = new List<string>();
        if (options.RequestLifetimeSeconds is < 60 or > 3600)
        {
            failures.Add($"{FederationOptions.Section}:RequestLifetimeSeconds must be between 60 and 3600 (was {options.RequestLifetimeSeconds}).");
        }

        if (options.ProviderTimeoutSeconds is < 1 or > 120)
        {
            failures.Add($"{FederationOptions.Section}:ProviderTimeoutSeconds must be between 1 and 120 (was {options.ProviderTimeoutSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
