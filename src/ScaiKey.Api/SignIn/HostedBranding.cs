using System.Globalization;
using System.Text;
using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// A tenant's look on its hosted pages, from its settings' branding: the name shown (the display name, else the
/// tenant's name), the logo and the primary colour with a text colour that reads on it.
/// </summary>
/// <remarks>Public: Razor components are public classes and take it as a parameter.</remarks>
public sealed record HostedBrand(string Name, string? LogoUrl, string? LogoOrigin, string? PrimaryColor, string? TextColor)
{
    internal static HostedBrand? Of(TenantContext? tenant)
    {
        if (tenant is null)
        {
            return null;
        }

        var branding = tenant.Settings.Branding;
        var color = branding?.PrimaryColor is { } c && BrandingSettings.IsColor(c) ? c.ToLowerInvariant() : null;
        return new(
            branding?.DisplayName ?? tenant.Name,
            branding?.LogoOrigin() is null ? null : branding.LogoUrl,
            branding?.LogoOrigin(),
            color,
            color is null ? null : TextOn(color));
    }

    /// <summary>
    /// The page's CSS for the primary colour: buttons filled with it, links underlined with it and the focus ring in
    /// it. Only a validated #rrggbb and the chosen text colour are written, never a value taken as CSS from a user.
    /// Link text keeps the page's own colour: a light brand colour as text on a light page would not be readable.
    /// </summary>
    public string Style()
    {
        if (PrimaryColor is null)
        {
            return string.Empty;
        }

        return new StringBuilder(256)
            .Append("button:not(.secondary) { background: ").Append(PrimaryColor).Append("; color: ").Append(TextColor).Append("; }\n")
            .Append("a { text-decoration-color: ").Append(PrimaryColor).Append("; text-decoration-thickness: 2px; }\n")
            .Append("a.provider { border-color: ").Append(PrimaryColor).Append("; }\n")
            .Append("input:focus-visible, button:focus-visible, a:focus-visible { outline-color: ").Append(PrimaryColor).Append("; }\n")
            .ToString();
    }

    /// <summary>
    /// Black or white, whichever has the higher WCAG 2 contrast ratio against <paramref name="color"/> (#rrggbb).
    /// The better of the two is always at least 4.58:1, so AA for normal text holds for every colour.
    /// </summary>
    public static string TextOn(string color)
    {
        var luminance = RelativeLuminance(color);
        var withWhite = 1.05 / (luminance + 0.05);
        var withBlack = (luminance + 0.05) / 0.05;
        return withBlack >= withWhite ? "#000000" : "#ffffff";
    }

    /// <summary>WCAG 2 relative luminance of an sRGB colour written #rrggbb.</summary>
    public static double RelativeLuminance(string color)
    {
        static double Channel(string hex)
        {
            var c = int.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }

        return (0.2126 * Channel(color[1..3])) + (0.7152 * Channel(color[3..5])) + (0.0722 * Channel(color[5..7]));
    }

    /// <summary>
    /// Adds the logo's origin as the page's only image source, before style-src so that what other steps append to
    /// form-action (the last directive) stays where it is.
    /// </summary>
    public static void AllowImage(HttpResponse response, string origin)
    {
        var policy = response.Headers.ContentSecurityPolicy.ToString();
        if (policy.Length == 0 || policy.Contains("img-src", StringComparison.Ordinal))
        {
            return;
        }

        var directive = "img-src " + origin + "; ";
        var at = policy.IndexOf("style-src", StringComparison.Ordinal);
        response.Headers.ContentSecurityPolicy = at < 0 ? policy + "; " + directive.TrimEnd(' ', ';') : policy.Insert(at, directive);
    }
}

/// <summary>
/// A hosted page as a Razor component and its parameters, rendered by <see cref="HostedPages.Page(int, HostedView)"/>;
/// the logo's origin, when the tenant has one, joins the CSP's img-src when the page is written.
/// </summary>
internal sealed record HostedView(Type Component, IReadOnlyDictionary<string, object?> Parameters, string? ImageOrigin)
{
    public static HostedView Of<TComponent>(HostedBrand? brand, Dictionary<string, object?> parameters)
        where TComponent : Microsoft.AspNetCore.Components.IComponent =>
        new(typeof(TComponent), parameters, brand?.LogoOrigin);
}
