using System.Globalization;
using System.Text;

namespace ScaiKey.Api.Users;

/// <summary>
/// The one place that says when two spellings of an email address are the same mailbox. Uniqueness, sign-in lookup
/// and the sign-in limiter's per-account buckets all key on <see cref="Normalize"/>, so they can never disagree.
/// </summary>
internal static class EmailAddresses
{
    /// <summary>
    /// The key an address is stored and looked up under (<c>users.email_normalized</c>): trimmed, Unicode NFC,
    /// lower-cased (the local part too, so uniqueness is case-insensitive), and the domain in its IDNA ASCII form,
    /// so <c>a@bücher.de</c> and <c>a@xn--bcher-kva.de</c> are one mailbox. Never throws: an address whose domain
    /// has no IDNA form (input validation refuses those; sign-in may still be given one) keeps the lower-cased NFC
    /// domain, which no valid stored address can equal.
    /// </summary>
    public static string Normalize(string email)
    {
        var text = Nfc(email.Trim()).ToLowerInvariant();
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            return text;
        }

        return text[..at] + "@" + AsciiDomain(text[(at + 1)..]);
    }

    /// <summary>NFC, or the text unchanged when it holds no valid Unicode (a lone surrogate) to normalize.</summary>
    public static string Nfc(string text)
    {
        try
        {
            return text.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            return text;
        }
    }

    private static string AsciiDomain(string domain)
    {
        // Already ASCII (and lower-cased): IDNA would give it back unchanged, or refuse it and fall back to it.
        if (Ascii.IsValid(domain))
        {
            return domain;
        }

        try
        {
            // A new mapping per call: IdnMapping's instance members are not documented as thread-safe.
            return new IdnMapping { AllowUnassigned = false, UseStd3AsciiRules = true }.GetAscii(domain).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return domain;
        }
    }
}
