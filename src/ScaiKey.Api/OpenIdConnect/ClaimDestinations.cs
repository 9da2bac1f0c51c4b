using System.Security.Claims;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// A fixed set of token destinations for claims, serialized once. OpenIddict's <c>SetDestinations</c> writes the set
/// into a claim property as JSON with a new stream, writer and de-duplicating iterator per claim, on every token; the
/// sets a token carries are the same few every time. The property is OpenIddict's own output, made once by its own
/// <c>SetDestinations</c> on a template claim and copied as it is, so its name and format stay whatever OpenIddict's
/// version writes and reads back (<c>OpenIddictShortcutTests</c> compares the two for every set used here).
/// </summary>
internal sealed class ClaimDestinations
{
    public static readonly ClaimDestinations None = new();
    public static readonly ClaimDestinations AccessToken = new(Destinations.AccessToken);
    public static readonly ClaimDestinations IdentityToken = new(Destinations.IdentityToken);
    public static readonly ClaimDestinations Both = new(Destinations.AccessToken, Destinations.IdentityToken);

    private readonly KeyValuePair<string, string>[] _properties;

    private ClaimDestinations(params string[] destinations)
    {
        var template = new Claim("template", string.Empty);
        template.SetDestinations(destinations);
        _properties = [.. template.Properties];
    }

    /// <summary>Gives <paramref name="claim"/> these destinations, replacing any it had, as OpenIddict's <c>SetDestinations</c> does.</summary>
    public void ApplyTo(Claim claim)
    {
        claim.Properties.Remove(Properties.Destinations);
        foreach (var (name, value) in _properties)
        {
            claim.Properties[name] = value;
        }
    }

    /// <summary>Applies, to every claim of <paramref name="identity"/>, the set <paramref name="of"/> gives its type.</summary>
    public static void Apply(ClaimsIdentity identity, Func<string, ClaimDestinations> of)
    {
        foreach (var claim in identity.Claims)
        {
            of(claim.Type).ApplyTo(claim);
        }
    }
}
