using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// The samlify IdP (tests/peers/saml-idp.mjs) for a test class: a key pair and self-signed certificate made here,
/// handed to the peer as PEM files, and kept so hostile tests can sign what they craft with the IdP's own key.
/// </summary>
public sealed class SamlIdpFixture : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "scaikey-saml-" + Guid.NewGuid().ToString("N"));
    private PeerProcess? _peer;

    public RSA Key { get; } = RSA.Create(2048);

    public X509Certificate2 Certificate { get; private set; } = null!;

    public string CertificatePem => Certificate.ExportCertificatePem();

    /// <summary>http://127.0.0.1:PORT of the peer (empty where node is missing: the tests are skipped then).</summary>
    public string BaseUrl => _peer?.Ready ?? string.Empty;

    public string EntityId => BaseUrl + "/metadata";

    public HttpClient Http { get; } = new(new HttpClientHandler { AllowAutoRedirect = false });

    public string PeerOutput => _peer?.Output ?? string.Empty;

    public async Task InitializeAsync()
    {
        Certificate = SelfSigned(Key, "CN=ScaiKey test SAML IdP");
        if (PeerProcess.Missing("node", "peers") is not null)
        {
            return;
        }

        Directory.CreateDirectory(_directory);
        var key = Path.Combine(_directory, "idp-key.pem");
        var cert = Path.Combine(_directory, "idp-cert.pem");
        await File.WriteAllTextAsync(key, Key.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(cert, CertificatePem);
        _peer = await PeerProcess.StartAsync("/usr/bin/node", ["saml-idp.mjs", "--key", key, "--cert", cert], "READY ");
    }

    public async Task DisposeAsync()
    {
        if (_peer is not null)
        {
            await _peer.DisposeAsync();
        }

        Http.Dispose();
        Key.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    public static X509Certificate2 SelfSigned(RSA key, string subject)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public async Task RegisterServiceProviderAsync(string metadataXml)
    {
        var response = await Http.PostAsync(BaseUrl + "/sp", new StringContent(metadataXml, Encoding.UTF8, "application/xml"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync() + PeerOutput);
    }

    public async Task SetUserAsync(string email, string firstName = "Sam", string lastName = "Federated")
    {
        var response = await Http.PostAsJsonAsync(BaseUrl + "/user", new { email, firstName, lastName });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The IdP's answer to an AuthnRequest URL (what its auto-post form would carry).</summary>
    public async Task<JsonNode> AnswerAsync(string ssoUrl)
    {
        var response = await Http.GetAsync(ssoUrl);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"IdP answered {(int)response.StatusCode}: {body}\n{PeerOutput}");
        return JsonNode.Parse(body)!;
    }
}

/// <summary>A browser of the tests: the app's client with cookies, redirects followed by hand.</summary>
public static class SamlBrowser
{
    public static HttpClient Create(ScaiKeyApp app) =>
        app.Host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public static Task<HttpResponseMessage> PostToAcsAsync(HttpClient browser, string acsUrl, string samlResponse, string? relayState)
    {
        var fields = new Dictionary<string, string> { ["SAMLResponse"] = samlResponse };
        if (relayState is not null)
        {
            fields["RelayState"] = relayState;
        }

        return browser.PostAsync(new Uri(acsUrl).PathAndQuery, new FormUrlEncodedContent(fields));
    }
}

/// <summary>
/// SAML responses crafted in test code and signed through SignedXml, the way an IdP (or an attacker holding some
/// key) would: the shape samlify produces, with every field the validator checks settable.
/// </summary>
public sealed record SamlForge(string IdpEntityId, string SpEntityId, string AcsUrl, string InResponseTo)
{
    public string ResponseId { get; init; } = "_r" + Guid.NewGuid().ToString("N");
    public string AssertionId { get; init; } = "_a" + Guid.NewGuid().ToString("N");
    public string NameId { get; init; } = $"forged.{Guid.NewGuid():N}@example.com";
    public string NameIdFormat { get; init; } = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    public string? Audience { get; init; }
    public string? Recipient { get; init; }
    public string? Destination { get; init; }
    public DateTime NotBefore { get; init; } = DateTime.UtcNow.AddSeconds(-5);
    public DateTime NotOnOrAfter { get; init; } = DateTime.UtcNow.AddMinutes(5);
    public string Status { get; init; } = "urn:oasis:names:tc:SAML:2.0:status:Success";

    public const string Sha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

    private static string T(DateTime d) => d.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    public XmlDocument Build()
    {
        var irt = InResponseTo.Length == 0 ? string.Empty : $" InResponseTo=\"{InResponseTo}\"";
        var destination = $" Destination=\"{Destination ?? AcsUrl}\"";
        var xml =
            $"<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{ResponseId}\" Version=\"2.0\" IssueInstant=\"{T(NotBefore)}\"{destination}{irt}>"
            + $"<saml:Issuer>{IdpEntityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"{Status}\"/></samlp:Status>"
            + $"<saml:Assertion xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" ID=\"{AssertionId}\" Version=\"2.0\" IssueInstant=\"{T(NotBefore)}\">"
            + $"<saml:Issuer>{IdpEntityId}</saml:Issuer>"
            + $"<saml:Subject><saml:NameID Format=\"{NameIdFormat}\">{NameId}</saml:NameID>"
            + $"<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"><saml:SubjectConfirmationData NotOnOrAfter=\"{T(NotOnOrAfter)}\" Recipient=\"{Recipient ?? AcsUrl}\"{irt}/></saml:SubjectConfirmation></saml:Subject>"
            + $"<saml:Conditions NotBefore=\"{T(NotBefore)}\" NotOnOrAfter=\"{T(NotOnOrAfter)}\"><saml:AudienceRestriction><saml:Audience>{Audience ?? SpEntityId}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
            + "<saml:AttributeStatement><saml:Attribute Name=\"firstName\"><saml:AttributeValue xsi:type=\"xs:string\">Forged</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
            + "</saml:Assertion></samlp:Response>";
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(xml);
        return document;
    }

    /// <summary>A response whose assertion is signed with <paramref name="key"/> (KeyInfo names <paramref name="certificate"/>).</summary>
    public string Signed(RSA key, X509Certificate2 certificate, string algorithm = Sha256) =>
        Encode(SignAssertion(Build(), key, certificate, algorithm));

    public static XmlDocument SignAssertion(XmlDocument document, RSA key, X509Certificate2 certificate, string algorithm = Sha256)
    {
        var assertion = Element(document, "Assertion");
        Sign(document, assertion, key, certificate, algorithm);
        return document;
    }

    /// <summary>
    /// A signature of <paramref name="element"/>, placed after the Issuer of <paramref name="insertInto"/> (default: the
    /// element itself, an enveloped signature) as SAML's schema wants.
    /// </summary>
    public static void Sign(XmlDocument document, XmlElement element, RSA key, X509Certificate2 certificate, string algorithm = Sha256, XmlElement? insertInto = null)
    {
        var signed = new SignedXml(document) { SigningKey = key };
        signed.SignedInfo!.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        signed.SignedInfo.SignatureMethod = algorithm;
        var reference = new Reference("#" + element.GetAttribute("ID"))
        {
            DigestMethod = algorithm.EndsWith("sha1", StringComparison.Ordinal) ? SignedXml.XmlDsigSHA1Url : SignedXml.XmlDsigSHA256Url,
        };
        reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signed.AddReference(reference);
        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(certificate));
        signed.KeyInfo = keyInfo;
        signed.ComputeSignature();
        var parent = insertInto ?? element;
        var issuer = parent.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == "Issuer");
        parent.InsertAfter(document.ImportNode(signed.GetXml(), deep: true), issuer);
    }

    public static XmlElement Element(XmlNode root, string localName) =>
        root.SelectNodes("//*")!.OfType<XmlElement>().First(e => e.LocalName == localName);

    public static string Encode(XmlDocument document) => Convert.ToBase64String(Encoding.UTF8.GetBytes(document.OuterXml));

    public static XmlDocument Decode(string samlResponse)
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(Encoding.UTF8.GetString(Convert.FromBase64String(samlResponse)));
        return document;
    }
}
