using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>What this SP sends: the AuthnRequest (HTTP-Redirect binding) and its metadata document.</summary>
internal static class SamlMessages
{
    /// <summary>
    /// The IdP's SSO address with the AuthnRequest: DEFLATE, base64, URL-encoded, with RelayState; with an SP key,
    /// the query is signed as the binding says (SigAlg, then Signature over the encoded query, RSA-SHA256).
    /// </summary>
    public static string RedirectUrl(SamlProvider provider, string requestId, string relayState, string spEntityId, string acsUrl, DateTime now, SamlSpKey? spKey)
    {
        var xml = AuthnRequest(requestId, provider.SsoUrl, spEntityId, acsUrl, now);
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(Encoding.UTF8.GetBytes(xml));
        }

        var query = "SAMLRequest=" + Uri.EscapeDataString(Convert.ToBase64String(buffer.ToArray()))
            + "&RelayState=" + Uri.EscapeDataString(relayState);
        if (spKey is not null)
        {
            query += "&SigAlg=" + Uri.EscapeDataString(SamlXml.RsaSha256);
            var signature = spKey.Key.SignData(Encoding.UTF8.GetBytes(query), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            query += "&Signature=" + Uri.EscapeDataString(Convert.ToBase64String(signature));
        }

        return provider.SsoUrl + (provider.SsoUrl.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
    }

    private static string AuthnRequest(string requestId, string destination, string spEntityId, string acsUrl, DateTime now)
    {
        var text = new StringBuilder();
        using (var writer = XmlWriter.Create(text, new XmlWriterSettings { OmitXmlDeclaration = true }))
        {
            writer.WriteStartElement("samlp", "AuthnRequest", SamlXml.Protocol);
            writer.WriteAttributeString("xmlns", "saml", null, SamlXml.Assertion);
            writer.WriteAttributeString("ID", requestId);
            writer.WriteAttributeString("Version", "2.0");
            writer.WriteAttributeString("IssueInstant", SamlXml.Timestamp(now));
            writer.WriteAttributeString("Destination", destination);
            writer.WriteAttributeString("ProtocolBinding", SamlXml.PostBinding);
            writer.WriteAttributeString("AssertionConsumerServiceURL", acsUrl);
            writer.WriteElementString("saml", "Issuer", SamlXml.Assertion, spEntityId);
            writer.WriteStartElement("samlp", "NameIDPolicy", SamlXml.Protocol);
            writer.WriteAttributeString("AllowCreate", "true");
            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        return text.ToString();
    }

    /// <summary>
    /// The SP metadata: an EntityDescriptor with an SPSSODescriptor (assertions must be signed; AuthnRequests are
    /// signed when a key is configured), its signing certificate, and the HTTP-POST ACS. With an SP key the
    /// document carries an enveloped signature (exclusive c14n, RSA-SHA256) over the whole EntityDescriptor.
    /// </summary>
    public static string Metadata(string spEntityId, string acsUrl, SamlSpKey? spKey)
    {
        var id = SamlXml.NewId();
        var text = new StringBuilder();
        using (var writer = XmlWriter.Create(text, new XmlWriterSettings { OmitXmlDeclaration = true }))
        {
            writer.WriteStartElement("md", "EntityDescriptor", SamlXml.Metadata);
            writer.WriteAttributeString("ID", id);
            writer.WriteAttributeString("entityID", spEntityId);
            writer.WriteStartElement("md", "SPSSODescriptor", SamlXml.Metadata);
            writer.WriteAttributeString("AuthnRequestsSigned", spKey is null ? "false" : "true");
            writer.WriteAttributeString("WantAssertionsSigned", "true");
            writer.WriteAttributeString("protocolSupportEnumeration", SamlXml.Protocol);
            if (spKey is not null)
            {
                writer.WriteStartElement("md", "KeyDescriptor", SamlXml.Metadata);
                writer.WriteAttributeString("use", "signing");
                writer.WriteStartElement("ds", "KeyInfo", SamlXml.DSig);
                writer.WriteStartElement("ds", "X509Data", SamlXml.DSig);
                writer.WriteElementString("ds", "X509Certificate", SamlXml.DSig, Convert.ToBase64String(spKey.Certificate.RawData));
                writer.WriteEndElement();
                writer.WriteEndElement();
                writer.WriteEndElement();
            }

            writer.WriteElementString("md", "NameIDFormat", SamlXml.Metadata, SamlXml.EmailFormat);
            writer.WriteStartElement("md", "AssertionConsumerService", SamlXml.Metadata);
            writer.WriteAttributeString("Binding", SamlXml.PostBinding);
            writer.WriteAttributeString("Location", acsUrl);
            writer.WriteAttributeString("index", "0");
            writer.WriteAttributeString("isDefault", "true");
            writer.WriteEndElement();
            writer.WriteEndElement();
            writer.WriteEndElement();
        }

        if (spKey is null)
        {
            return text.ToString();
        }

        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        document.LoadXml(text.ToString());
        var signed = new SignedXml(document) { SigningKey = spKey.Key };
        signed.SignedInfo!.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        signed.SignedInfo.SignatureMethod = SignedXml.XmlDsigRSASHA256Url;
        var reference = new Reference("#" + id) { DigestMethod = SignedXml.XmlDsigSHA256Url };
        reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signed.AddReference(reference);
        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(spKey.Certificate));
        signed.KeyInfo = keyInfo;
        signed.ComputeSignature();

        // The schema puts ds:Signature first in the EntityDescriptor.
        var root = document.DocumentElement!;
        root.InsertBefore(document.ImportNode(signed.GetXml(), deep: true), root.FirstChild);
        return document.OuterXml;
    }
}
