using QRCoder;

namespace ScaiKey.Api.Mfa;

/// <summary>
/// QR codes for the hosted pages, rendered on the server as inline SVG: no script, no image request, nothing the
/// pages' strict CSP (default-src 'none') would have to allow.
/// </summary>
internal static class QrCodes
{
    /// <summary>
    /// The code as inline SVG; for a text too long for any QR code (a tenant or account name near its length limit,
    /// percent-encoded twice in an otpauth URI) a note instead, since the secret is shown as text beside it anyway.
    /// </summary>
    public static string Svg(string text)
    {
        using var generator = new QRCodeGenerator();
        QRCodeData data;
        try
        {
            data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        }
        catch (QRCoder.Exceptions.DataTooLongException)
        {
            return "<p>This account's details are too long for a QR code: enter the key below in your app.</p>";
        }

        using var owned = data;
        var svg = new SvgQRCode(owned).GetGraphic(4);

        // Marked as an image with a name for screen readers; the secret is printed beside it as text.
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start < 0 ? svg : svg[start..].Replace("<svg ", "<svg role=\"img\" aria-label=\"QR code for your authenticator app\" ", StringComparison.Ordinal);
    }
}
