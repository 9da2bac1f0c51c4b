using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>What a validated assertion says; every value was read from the one assertion the signature covers.</summary>
internal sealed record SamlAssertion(
    string AssertionId, string NameId, string? NameIdFormat, string RequestId, DateTime ExpiresAt,
    IReadOnlyDictionary<string, IReadOnlyList<string?>> Attributes);

/// <summary>Why a response was refused: <see cref="Reason"/> for the audit event, <see cref="Message"/> for the page.</summary>
internal sealed record SamlRefusal(string Reason, string Message);

/// <summary>What the validator checks a response against: the IdP's settings and this SP's own addresses.</summary>
internal sealed record SamlExpectations(
    string IdpEntityId, IReadOnlyList<X509Certificate2> Certificates, bool WantAssertionsSigned, string SpEntityId, string AcsUrl, DateTime Now);

/// <summary>
/// Validates an HTTP-POST SAML Response with System.Security.Cryptography.Xml, refusing the known signature-wrapping
/// shapes by structure before any signature is checked: exactly one Assertion in the whole document, a direct child
/// of the Response root; IDs unique in the document (so the signature's reference and this code resolve the same
/// element); each signature a direct child of what it signs, with a single Reference naming exactly that element's
/// ID, only the enveloped-signature and exclusive c14n transforms, RSA with SHA-2; verified with the IdP's configured
/// certificates only (never a key from the message's KeyInfo). Values are then read from that same element.
/// </summary>
internal static class SamlResponseValidator
{
    /// <summary>Tolerated difference between the IdP's clock and ours.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);

    /// <summary>The SAMLResponse form value's limit (base64); responses are a few KiB.</summary>
    public const int MaxEncodedLength = 256 * 1024;

    private const string NotSigned = "The identity provider's answer is not signed as required by its registered certificate.";
    private const string Malformed = "The identity provider's answer could not be read.";

    /// <summary>The assertion, or why the response was refused (exactly one of the two is set).</summary>
    public static Outcome Validate(string encoded, SamlExpectations expect) => Check(encoded, expect);

    internal readonly record struct Outcome(SamlAssertion? Assertion, SamlRefusal? Refusal)
    {
        public static implicit operator Outcome(SamlRefusal refusal) => new(null, refusal);

        public static implicit operator Outcome(SamlAssertion assertion) => new(assertion, null);
    }

    private static SamlRefusal Refuse(string reason, string message) => new(reason, message);

    private static Outcome Check(string encoded, SamlExpectations expect)
    {
        if (encoded.Length is 0 or > MaxEncodedLength)
        {
            return Refuse(encoded.Length == 0 ? "missing_response" : "too_large", Malformed);
        }

        string xml;
        try
        {
            xml = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(encoded));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return Refuse("malformed", Malformed);
        }

        XmlDocument document;
        try
        {
            document = SamlXml.Load(xml, MaxEncodedLength);
        }
        catch (XmlException)
        {
            // A DOCTYPE is refused by the reader (DtdProcessing.Prohibit) before any entity is expanded or fetched.
            return Refuse(xml.Contains("<!DOCTYPE", StringComparison.OrdinalIgnoreCase) ? "dtd" : "malformed", Malformed);
        }

        var root = document.DocumentElement!;
        if (root.NamespaceURI != SamlXml.Protocol || root.LocalName != "Response" || root.GetAttribute("Version") != "2.0")
        {
            return Refuse("not_a_response", Malformed);
        }

        if (DuplicateIds(document))
        {
            return Refuse("duplicate_id", "The identity provider's answer repeats an ID; it was refused as a possible forgery.");
        }

        if (SamlXml.Descendants(document, SamlXml.Assertion, "EncryptedAssertion").Any())
        {
            return Refuse("encrypted_assertion", "The identity provider sent an encrypted assertion, which this service does not accept; turn assertion encryption off for it.");
        }

        var assertions = SamlXml.Descendants(document, SamlXml.Assertion, "Assertion").ToList();
        if (assertions.Count != 1 || assertions[0].ParentNode != root)
        {
            return Refuse("assertion_count", "The identity provider's answer must hold exactly one assertion; it was refused as a possible forgery.");
        }

        var assertion = assertions[0];
        if (root.HasAttribute("Destination") && root.GetAttribute("Destination") != expect.AcsUrl)
        {
            return Refuse("destination", "The identity provider's answer was addressed to another service.");
        }

        if (SamlXml.Child(root, SamlXml.Assertion, "Issuer") is { } responseIssuer && SamlXml.TextOnly(responseIssuer)?.Trim() != expect.IdpEntityId)
        {
            return Refuse("issuer", "The answer comes from another identity provider than the one registered.");
        }

        var status = SamlXml.Child(root, SamlXml.Protocol, "Status") is { } s ? SamlXml.Child(s, SamlXml.Protocol, "StatusCode") : null;
        if (status?.GetAttribute("Value") != SamlXml.Success)
        {
            return Refuse("status", "The identity provider did not sign you in.");
        }

        if (CheckSignatures(document, root, assertion, expect) is { } signatureRefusal)
        {
            return signatureRefusal;
        }

        return ReadAssertion(root, assertion, expect);
    }

    private static SamlRefusal? CheckSignatures(XmlDocument document, XmlElement root, XmlElement assertion, SamlExpectations expect)
    {
        var assertionSignatures = SamlXml.Children(assertion, SamlXml.DSig, "Signature").ToList();
        var responseSignatures = SamlXml.Children(root, SamlXml.DSig, "Signature").ToList();
        if (assertionSignatures.Count > 1 || responseSignatures.Count > 1)
        {
            return Refuse("signature_count", NotSigned);
        }

        if (assertionSignatures.Count == 0 && (expect.WantAssertionsSigned || responseSignatures.Count == 0))
        {
            return Refuse(responseSignatures.Count == 0 ? "unsigned" : "assertion_unsigned", NotSigned);
        }

        // Every signature present must hold, not just one of them.
        foreach (var (signed, signature) in assertionSignatures.Select(x => (assertion, x)).Concat(responseSignatures.Select(x => (root, x))))
        {
            if (Verify(document, signed, signature, expect.Certificates) is { } reason)
            {
                return Refuse(reason, reason == "signature_invalid"
                    ? "The identity provider's answer is not signed by its registered certificate, or was changed after signing."
                    : NotSigned);
            }
        }

        return null;
    }

    /// <summary>Null when <paramref name="signature"/> is a valid enveloped signature of exactly <paramref name="signed"/>; else the reason.</summary>
    private static string? Verify(XmlDocument document, XmlElement signed, XmlElement signature, IReadOnlyList<X509Certificate2> certificates)
    {
        var id = signed.GetAttribute("ID");
        var signedInfo = SamlXml.Child(signature, SamlXml.DSig, "SignedInfo");
        if (id.Length == 0 || signedInfo is null)
        {
            return "signature_reference";
        }

        if (SamlXml.Child(signedInfo, SamlXml.DSig, "CanonicalizationMethod")?.GetAttribute("Algorithm") != SamlXml.ExclusiveC14n)
        {
            return "signature_transform";
        }

        if (SamlXml.Child(signedInfo, SamlXml.DSig, "SignatureMethod")?.GetAttribute("Algorithm") is not { } method
            || !SamlXml.SignatureAlgorithms.Contains(method))
        {
            return "signature_algorithm";
        }

        var references = SamlXml.Children(signedInfo, SamlXml.DSig, "Reference").ToList();
        if (references.Count != 1 || references[0].GetAttribute("URI") != "#" + id)
        {
            return "signature_reference";
        }

        if (SamlXml.Child(references[0], SamlXml.DSig, "DigestMethod")?.GetAttribute("Algorithm") is not { } digest
            || !SamlXml.DigestAlgorithms.Contains(digest))
        {
            return "signature_algorithm";
        }

        var transforms = SamlXml.Child(references[0], SamlXml.DSig, "Transforms") is { } t
            ? SamlXml.Children(t, SamlXml.DSig, "Transform").Select(x => x.GetAttribute("Algorithm")).ToList()
            : [];
        if (!transforms.Contains(SamlXml.EnvelopedTransform) || transforms.Count != transforms.Distinct().Count()
            || transforms.Any(a => a is not (SamlXml.EnvelopedTransform or SamlXml.ExclusiveC14n)))
        {
            return "signature_transform";
        }

        var signedXml = new SignedXml(document);
        try
        {
            signedXml.LoadXml(signature);

            // The configured certificates only: whatever KeyInfo the message carries is never used.
            return certificates.Any(c => signedXml.CheckSignature(c, verifySignatureOnly: true)) ? null : "signature_invalid";
        }
        catch (CryptographicException)
        {
            return "signature_invalid";
        }
    }

    private static Outcome ReadAssertion(XmlElement root, XmlElement assertion, SamlExpectations expect)
    {
        var now = expect.Now;
        var issuer = SamlXml.Child(assertion, SamlXml.Assertion, "Issuer");
        if (issuer is null || SamlXml.TextOnly(issuer)?.Trim() != expect.IdpEntityId)
        {
            return Refuse("issuer", "The answer comes from another identity provider than the one registered.");
        }

        var assertionId = assertion.GetAttribute("ID");
        if (assertionId.Length is 0 or > 256)
        {
            return Refuse("assertion_id", Malformed);
        }

        var subject = SamlXml.Child(assertion, SamlXml.Assertion, "Subject");
        var nameIdElement = subject is null ? null : SamlXml.Child(subject, SamlXml.Assertion, "NameID");
        if (nameIdElement is null)
        {
            return Refuse("no_subject", "The identity provider's answer names no user.");
        }

        if (SamlXml.TextOnly(nameIdElement) is not { } nameIdText)
        {
            return Refuse("nameid_not_text", "The user name in the identity provider's answer holds more than text; it was refused as a possible forgery.");
        }

        var nameId = nameIdText.Trim();
        if (nameId.Length is 0 or > 256)
        {
            return Refuse("no_subject", "The identity provider's answer names no user.");
        }

        // The bearer confirmation: addressed to our ACS, still valid, and naming the request it answers.
        var confirmations = SamlXml.Children(subject!, SamlXml.Assertion, "SubjectConfirmation")
            .Where(c => c.GetAttribute("Method") == SamlXml.Bearer)
            .Select(c => SamlXml.Child(c, SamlXml.Assertion, "SubjectConfirmationData"))
            .ToList();
        if (confirmations.Count == 0 || confirmations.Any(c => c is null))
        {
            return Refuse("subject_confirmation", "The identity provider's answer has no usable bearer confirmation.");
        }

        SamlRefusal? firstProblem = null;
        XmlElement? confirmation = null;
        DateTime? confirmationExpiry = null;
        foreach (var data in confirmations)
        {
            var problem = CheckConfirmation(data!, expect, out var expiry);
            if (problem is null)
            {
                confirmation = data;
                confirmationExpiry = expiry;
                break;
            }

            firstProblem ??= problem;
        }

        if (confirmation is null)
        {
            return firstProblem!;
        }

        var conditions = SamlXml.Child(assertion, SamlXml.Assertion, "Conditions");
        if (conditions is null
            || !SamlXml.TryReadInstant(conditions, "NotBefore", out var notBefore)
            || !SamlXml.TryReadInstant(conditions, "NotOnOrAfter", out var notOnOrAfter))
        {
            return Refuse("conditions", "The identity provider's answer has no valid conditions.");
        }

        if (notBefore is { } nb && nb > now + ClockSkew)
        {
            return Refuse("not_yet_valid", "The identity provider's answer is not valid yet; check the clocks of both servers.");
        }

        if (notOnOrAfter is { } noa && noa <= now - ClockSkew)
        {
            return Refuse("expired", "The identity provider's answer has expired. Please sign in again.");
        }

        var restrictions = SamlXml.Children(conditions, SamlXml.Assertion, "AudienceRestriction").ToList();
        if (restrictions.Count == 0 || !restrictions.All(r => SamlXml.Children(r, SamlXml.Assertion, "Audience")
                .Any(a => SamlXml.TextOnly(a)?.Trim() == expect.SpEntityId)))
        {
            return Refuse("audience", "The identity provider's answer was meant for another service.");
        }

        // InResponseTo: on the confirmation and/or the Response; both must agree, and one must be there
        // (unsolicited, IdP-initiated responses are not accepted).
        var confirmationRequest = confirmation.GetAttribute("InResponseTo");
        var responseRequest = root.GetAttribute("InResponseTo");
        if ((confirmationRequest.Length > 0 && responseRequest.Length > 0 && confirmationRequest != responseRequest)
            || (confirmationRequest.Length == 0 && responseRequest.Length == 0))
        {
            return Refuse("in_response_to", "The identity provider's answer does not belong to a sign-in started here. Please sign in again.");
        }

        var attributes = new Dictionary<string, IReadOnlyList<string?>>(StringComparer.Ordinal);
        foreach (var statement in SamlXml.Children(assertion, SamlXml.Assertion, "AttributeStatement"))
        {
            foreach (var attribute in SamlXml.Children(statement, SamlXml.Assertion, "Attribute"))
            {
                var name = attribute.GetAttribute("Name");
                if (name.Length > 0 && !attributes.ContainsKey(name))
                {
                    attributes[name] = SamlXml.Children(attribute, SamlXml.Assertion, "AttributeValue").Select(v => SamlXml.TextOnly(v)?.Trim()).ToList();
                }
            }
        }

        var expires = new[] { notOnOrAfter, confirmationExpiry }.Where(d => d is not null).Max()!.Value;
        return new SamlAssertion(assertionId, nameId, NullIfEmpty(nameIdElement.GetAttribute("Format")),
            confirmationRequest.Length > 0 ? confirmationRequest : responseRequest, expires, attributes);
    }

    private static SamlRefusal? CheckConfirmation(XmlElement data, SamlExpectations expect, out DateTime? expiry)
    {
        expiry = null;
        if (data.GetAttribute("Recipient") != expect.AcsUrl)
        {
            return Refuse("recipient", "The identity provider's answer was addressed to another service.");
        }

        if (!SamlXml.TryReadInstant(data, "NotOnOrAfter", out var notOnOrAfter) || notOnOrAfter is null
            || !SamlXml.TryReadInstant(data, "NotBefore", out var notBefore))
        {
            return Refuse("subject_confirmation", "The identity provider's answer has no usable bearer confirmation.");
        }

        if (notOnOrAfter <= expect.Now - ClockSkew)
        {
            return Refuse("expired", "The identity provider's answer has expired. Please sign in again.");
        }

        if (notBefore is { } nb && nb > expect.Now + ClockSkew)
        {
            return Refuse("not_yet_valid", "The identity provider's answer is not valid yet; check the clocks of both servers.");
        }

        expiry = notOnOrAfter;
        return null;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>
    /// Whether two elements carry the same ID (attributes ID, Id or id, the names SignedXml resolves a reference
    /// by): with unique IDs the reference resolves to the one element this code then reads.
    /// </summary>
    private static bool DuplicateIds(XmlDocument document)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var element in document.SelectNodes("//*")!.OfType<XmlElement>())
        {
            foreach (XmlAttribute attribute in element.Attributes)
            {
                if (attribute.NamespaceURI.Length == 0 && attribute.LocalName is "ID" or "Id" or "id" && !seen.Add(attribute.Value))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
