using System.ComponentModel;
using System.Text.Json;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.OpenApi;

namespace ScaiKey.Api.Tenancy;

[Description("How the tenant's hosted pages (sign-in, password, consent, account) look: a name shown instead of the tenant's, "
    + "a logo (an absolute https URL; its origin is the only image source the pages allow) and the colour of primary buttons "
    + "and links (#rrggbb; the text on it is black or white, whichever contrasts more). Null: the default.")]
internal sealed record BrandingSettings(
    [property: ApiOptional] string? DisplayName = null,
    [property: ApiOptional] string? LogoUrl = null,
    [property: ApiOptional] string? PrimaryColor = null)
{
    public const int MaxDisplayName = 100;
    public const int MaxLogoUrl = 2048;

    /// <summary>The logo's origin (scheme, host, port) for the pages' img-src, or null without a logo.</summary>
    public string? LogoOrigin() => LogoUrl is not null && Uri.TryCreate(LogoUrl, UriKind.Absolute, out var uri)
        ? uri.GetLeftPart(UriPartial.Authority)
        : null;

    /// <summary>Applies the fields present in <paramref name="element"/>; absent fields keep their value, null clears one.</summary>
    public BrandingSettings Merge(JsonElement element, ValidationErrors errors)
    {
        object[] prefix = ["body", "settings", "branding"];
        var r = new BodyReader(element, errors, prefix);
        var name = r.OptionalString("display_name", MaxDisplayName);
        var logo = r.OptionalString("logo_url", MaxLogoUrl);
        var color = r.OptionalString("primary_color", 7);
        r.RejectUnknownFields();

        if (name.Value is { } n && n.Trim().Length == 0)
        {
            errors.Add([.. prefix, "display_name"], "String should have at least 1 character", "string_too_short");
        }

        if (logo.Value is { } l && !IsLogoUrl(l))
        {
            errors.ValueError([.. prefix, "logo_url"], "must be an absolute https URL without credentials or a fragment");
        }

        if (color.Value is { } c && !IsColor(c))
        {
            errors.ValueError([.. prefix, "primary_color"], "must be a colour written #rrggbb");
        }

        return new(
            name.IsSet ? name.Value?.Trim() : DisplayName,
            logo.IsSet ? logo.Value : LogoUrl,
            color.IsSet ? color.Value?.ToLowerInvariant() : PrimaryColor);
    }

    /// <summary>
    /// https only (the pages are served over https; an http image would be mixed content), printable ASCII (so the
    /// origin written into the CSP header is exactly the host the browser loads from), no user:password (it would
    /// be shown to every visitor) and no fragment.
    /// </summary>
    internal static bool IsLogoUrl(string value) =>
        value.All(ch => ch is > ' ' and < (char)127)
        && Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme == Uri.UriSchemeHttps
        && uri.UserInfo.Length == 0
        && uri.Fragment.Length == 0
        && !value.Contains('#', StringComparison.Ordinal)
        && uri.Host.Length > 0;

    internal static bool IsColor(string value) =>
        value.Length == 7 && value[0] == '#' && value.Skip(1).All(Uri.IsHexDigit);
}
