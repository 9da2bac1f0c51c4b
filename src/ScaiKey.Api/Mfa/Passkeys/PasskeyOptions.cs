using System.Net;
using Fido2NetLib;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Http;

namespace ScaiKey.Api.Mfa.Passkeys;

/// <summary>ScaiKey:Passkeys. The relying party itself is not configured here: it is the issuer (see <see cref="PasskeyRelyingParty"/>).</summary>
internal sealed class PasskeyOptions
{
    public const string Section = "ScaiKey:Passkeys";

    /// <summary>
    /// False hides "Sign in with a passkey" and refuses the ceremonies: for a deployment whose issuer is an IP
    /// address, which browsers do not accept as a relying party id.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How long a ceremony may take from its options to its answer: the browser's timeout and the server-side
    /// challenge's lifetime. Long enough for a user to find a security key or scan a QR code with a phone.
    /// </summary>
    public int CeremonySeconds { get; set; } = 300;
}

internal sealed class PasskeyOptionsValidator(PublicOrigin origin) : IValidateOptions<PasskeyOptions>
{
    public const int MinCeremonySeconds = 30;
    public const int MaxCeremonySeconds = 1800;

    public ValidateOptionsResult Validate(string? name, PasskeyOptions options)
    {
        if (options.CeremonySeconds is < MinCeremonySeconds or > MaxCeremonySeconds)
        {
            return ValidateOptionsResult.Fail(
                $"{PasskeyOptions.Section}:CeremonySeconds must be between {MinCeremonySeconds} and {MaxCeremonySeconds}, not {options.CeremonySeconds}.");
        }

        // WebAuthn relying party ids are domains: a browser refuses every ceremony of an IP-address origin.
        if (options.Enabled && origin.Issuer is { } issuer && IPAddress.TryParse(issuer.IdnHost.Trim('[', ']'), out _))
        {
            return ValidateOptionsResult.Fail(
                $"{PublicOrigin.IssuerKey} is an IP address ({issuer.Host}); passkeys need a host name. Use one, or set {PasskeyOptions.Section}:Enabled to false.");
        }

        return ValidateOptionsResult.Success;
    }
}

/// <summary>
/// The WebAuthn relying party: the issuer's host as the RP id and the issuer's origin as the only accepted origin.
/// Without a configured issuer (development, tests) it is the request's own host and origin, as for OpenIddict's
/// issuer; that is safe because the browser, not the request, fills in the origin the authenticator signs, and an
/// authenticator answers only for the RP id its credential was made for.
/// </summary>
internal sealed class PasskeyRelyingParty(PublicOrigin origin, IOptions<PasskeyOptions> options)
{
    // 32 random bytes: WebAuthn asks for at least 16 (section 13.4.3); the challenge alone ties an answer to one ceremony.
    private const int ChallengeBytes = 32;

    public bool Enabled => options.Value.Enabled;

    public TimeSpan CeremonyLifetime => TimeSpan.FromSeconds(options.Value.CeremonySeconds);

    /// <summary>Fido2's configuration for a ceremony of <paramref name="tenantName"/> (the name a browser shows) on this request.</summary>
    public Fido2Configuration For(HttpRequest request, string tenantName)
    {
        var (rpId, expectedOrigin) = origin.Issuer is { } issuer
            ? (issuer.IdnHost, issuer.GetLeftPart(UriPartial.Authority))
            : (request.Host.Host, $"{request.Scheme}://{request.Host.Value}");
        return new Fido2Configuration
        {
            RPID = rpId,
            RPName = tenantName,
            Origins = new HashSet<string>([expectedOrigin], StringComparer.OrdinalIgnoreCase),
            Timeout = (uint)options.Value.CeremonySeconds * 1000,
            ChallengeSize = ChallengeBytes,
        };
    }

    public static IServiceCollection AddTo(IServiceCollection services)
    {
        services.AddOptions<PasskeyOptions>().BindConfiguration(PasskeyOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasskeyOptions>, PasskeyOptionsValidator>();
        services.AddSingleton<PasskeyRelyingParty>();
        services.AddScoped<PasskeyService>();
        return services;
    }
}
