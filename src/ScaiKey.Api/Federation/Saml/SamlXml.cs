using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>
/// XML as the SAML code reads it: no DTD (so no entity expansion or external entities), no resolver, a size limit,
/// whitespace preserved (signatures are computed over the exact text). Namespaces and algorithm URIs in one place.
/// </summary>
internal static class SamlXml
{
    public const string Protocol = "urn:oasis:names:tc:SAML:2.0:protocol";
    public const string Assertion = "urn:oasis:names:tc:SAML:2.0:assertion";
    public const string Metadata = "urn:oasis:names:tc:SAML:2.0:metadata";
    public const string DSig = "http://www.w3.org/2000/09/xmldsig#";
    public const string RedirectBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    public const string PostBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    public const string Success = "urn:oasis:names:tc:SAML:2.0:status:Success";
    public const string Bearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
    public const string EmailFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

    public const string EnvelopedTransform = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
    public const string ExclusiveC14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
    public const string RsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

    /// <summary>Signature algorithms accepted on responses: RSA with SHA-2. SHA-1 is refused.</summary>
    public static readonly HashSet<string> SignatureAlgorithms = new(StringComparer.Ordinal)
    {
        RsaSha256,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    };

    /// <summary>The deepest nesting a SAML document or metadata may have.</summary>
    public const int MaxDepth = 64;

    public static readonly HashSet<string> DigestAlgorithms = new(StringComparer.Ordinal)
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    };

    /// <summary>
    /// Parses untrusted XML. Throws <see cref="XmlException"/> on a DTD, on malformed XML or past
    /// <paramref name="maxCharacters"/>.
    /// </summary>
    public static XmlDocument Load(string xml, int maxCharacters)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = maxCharacters,
            MaxCharactersFromEntities = 0,
            IgnoreComments = false,
            IgnoreProcessingInstructions = false,
            IgnoreWhitespace = false,
        };
        // Nesting is bounded first: canonicalising an element for its digest recurses per level, so a signed
        // response stuffed with tens of thousands of nested elements could exhaust the stack and end the process,
        // which no catch survives (found in the attacker's review). Real responses nest about ten deep.
        using (var probe = XmlReader.Create(new StringReader(xml), settings))
        {
            while (probe.Read())
            {
                if (probe.Depth > MaxDepth)
                {
                    throw new XmlException($"The document nests deeper than {MaxDepth} levels.");
                }
            }
        }

        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        document.Load(reader);
        return document;
    }

    public static IEnumerable<XmlElement> Children(XmlElement parent, string ns, string localName) =>
        parent.ChildNodes.OfType<XmlElement>().Where(e => e.NamespaceURI == ns && e.LocalName == localName);

    public static XmlElement? Child(XmlElement parent, string ns, string localName) => Children(parent, ns, localName).FirstOrDefault();

    public static IEnumerable<XmlElement> Descendants(XmlNode root, string ns, string localName) =>
        root.SelectNodes("descendant-or-self::*")!.OfType<XmlElement>().Where(e => e.NamespaceURI == ns && e.LocalName == localName);

    /// <summary>
    /// The text of an element that must hold text only. Null when it holds anything else: a comment or processing
    /// instruction inside a NameID (<c>user@evil.com&lt;!----&gt;.example.com</c>) is refused rather than read in
    /// part, and a child element is never flattened into a value.
    /// </summary>
    public static string? TextOnly(XmlElement element)
    {
        var text = new System.Text.StringBuilder();
        foreach (XmlNode child in element.ChildNodes)
        {
            if (child is XmlText or XmlCDataSection or XmlWhitespace or XmlSignificantWhitespace)
            {
                text.Append(child.Value);
            }
            else
            {
                return null;
            }
        }

        return text.ToString();
    }

    /// <summary>A certificate given as PEM or as base64 DER (as in metadata's X509Certificate); null when it is neither.</summary>
    public static X509Certificate2? ParseCertificate(string text)
    {
        try
        {
            var trimmed = text.Trim();
            if (trimmed.StartsWith("-----BEGIN", StringComparison.Ordinal))
            {
                return X509Certificate2.CreateFromPem(trimmed);
            }

            var der = Convert.FromBase64String(string.Concat(trimmed.Where(c => !char.IsWhiteSpace(c))));
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The SP's RSA signing key from PEM (PKCS#8 or PKCS#1); null when it is not one.</summary>
    public static RSA? ParseRsaKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            return null;
        }
    }

    public static string Timestamp(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An xs:dateTime attribute (UTC or with an offset); null when absent or not a date.</summary>
    public static bool TryReadInstant(XmlElement element, string attribute, out DateTime? value)
    {
        value = null;
        var text = element.GetAttribute(attribute);
        if (text.Length == 0)
        {
            return !element.HasAttribute(attribute);
        }

        try
        {
            value = XmlConvert.ToDateTime(text, XmlDateTimeSerializationMode.Utc);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>A new SAML ID: an NCName (a letter or '_' first) of 128 random bits.</summary>
    public static string NewId() => "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
