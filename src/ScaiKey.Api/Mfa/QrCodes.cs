using QRCoder;

namespace ScaiKey.Api.Mfa;

/// <summary>
/// QR codes for the hosted pages, rendered on the server as inline SVG: no script, no image request, nothing the
/// pages' strict CSP (default-src 'none') would have to allow.
/// </summary>
internal static class QrCodes
{
    public static string Svg(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var svg = new SvgQRCode(data).GetGraphic(4);

        // Marked as an image with a name for screen readers; the secret is printed beside it as text.
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start < 0 ? svg : svg[start..].Replace("<svg ", "<svg role=\"img\" aria-label=\"QR code for your authenticator app\" ", StringComparison.Ordinal);
    }
}
