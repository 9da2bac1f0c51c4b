using System.Net;
using System.Security.Cryptography;
using System.Xml;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Tests.Infrastructure;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Crafted hostile SAML responses, each refused at the ACS with a hosted error page (no XML, no stack) and a
/// federation.refused audit event naming the reason; a control shows the same response accepted when only the
/// property under test is right. Responses are signed with the IdP's own test key through SignedXml (or come from
/// the samlify IdP), so each refusal is for the attack, not for a broken signature.
/// </summary>
public sealed class SamlHostileResponseTests(FederationApp app, SamlIdpFixture idp) : IClassFixture<FederationApp>, IClassFixture<SamlIdpFixture>
{
    private const string Saml = "urn:oasis:names:tc:SAML:2.0:assertion";
    private const string Protocol = "urn:oasis:names:tc:SAML:2.0:protocol";
    private const string DSig = "http://www.w3.org/2000/09/xmldsig#";

    private sealed record Flow(SamlFederationTests.Provider Provider, HttpClient Browser, string RequestId, SamlForge Forge);

    private async Task<SamlFederationTests.Provider> ProviderAsync(string entityId, bool? wantAssertionsSigned = null)
    {
        var config = new Dictionary<string, object> { ["entity_id"] = entityId, ["sso_url"] = "http://127.0.0.1:9/sso", ["idp_certificate"] = idp.CertificatePem };
        if (wantAssertionsSigned is { } want)
        {
            config["want_assertions_signed"] = want;
        }

        return await SamlFederationTests.CreateProviderAsync(app, config);
    }

    /// <summary>A started sign-in (a live AuthnRequest) and a forge for responses to it.</summary>
    private async Task<Flow> StartAsync(bool? wantAssertionsSigned = null, SamlFederationTests.Provider? provider = null, string? entityId = null)
    {
        entityId ??= "urn:test:idp:" + Guid.NewGuid().ToString("N");
        provider ??= await ProviderAsync(entityId, wantAssertionsSigned);
        var browser = SamlBrowser.Create(app);
        var requestId = SamlFederationTests.QueryValue(await SamlFederationTests.StartAsync(browser, provider), "RelayState");
        return new Flow(provider, browser, requestId, new SamlForge(entityId, provider.SpEntityId, provider.AcsUrl, requestId));
    }

    /// <summary>Another sign-in through the same provider (a new browser, a new AuthnRequest).</summary>
    private Task<Flow> NextAsync(Flow flow) => StartAsync(provider: flow.Provider, entityId: flow.Forge.IdpEntityId);

    private async Task RefusedAsync(Flow flow, string samlResponse, string reason)
    {
        var links = await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.IdentityProviderId == flow.Provider.Id));
        var response = await SamlBrowser.PostToAcsAsync(flow.Browser, flow.Provider.AcsUrl, samlResponse, flow.RequestId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("<h1>Sign-in failed</h1>", body, StringComparison.Ordinal);
        foreach (var leak in new[] { "saml:", "samlp:", "ds:", "Exception", " at ScaiKey", flow.Forge.NameId })
        {
            Assert.DoesNotContain(leak, body, StringComparison.Ordinal);
        }

        var reasons = await app.DbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(e => e.TargetId == flow.Provider.Id && e.Action == "federation.refused").Select(e => e.Reason).ToListAsync());
        Assert.Equal([reason], reasons);
        Assert.Equal(links, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.IdentityProviderId == flow.Provider.Id)));
        Assert.Null(response.Headers.Location);
    }

    private static async Task AcceptedAsync(Flow flow, string samlResponse)
    {
        var response = await SamlBrowser.PostToAcsAsync(flow.Browser, flow.Provider.AcsUrl, samlResponse, flow.RequestId);
        Assert.True(response.StatusCode == HttpStatusCode.SeeOther, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var end = await flow.Browser.GetAsync(response.Headers.Location!.OriginalString);
        Assert.True(end.StatusCode == HttpStatusCode.OK, $"{(int)end.StatusCode}: {await end.Content.ReadAsStringAsync()}");
    }

    private XmlDocument SignedDocument(SamlForge forge) => SamlForge.SignAssertion(forge.Build(), idp.Key, idp.Certificate);

    private static XmlElement Assertion(XmlDocument document) => SamlForge.Element(document, "Assertion");

    /// <summary>A copy of the signed assertion without its signature, naming another user: what a wrapping attack adds.</summary>
    private static XmlElement Evil(XmlElement signed, string nameId, string? id = null)
    {
        var evil = (XmlElement)signed.CloneNode(deep: true);
        evil.RemoveChild(evil.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == "Signature"));
        evil.SetAttribute("ID", id ?? "_evil" + Guid.NewGuid().ToString("N"));
        SamlForge.Element(evil, "NameID").InnerText = nameId;
        return evil;
    }

    [Fact]
    public async Task Control_a_response_signed_by_the_registered_idp_key_signs_in()
    {
        var flow = await StartAsync();
        await AcceptedAsync(flow, flow.Forge.Signed(idp.Key, idp.Certificate));
        Assert.True(await app.DbAsync(db => db.FederatedIdentities.AnyAsync(f => f.IdentityProviderId == flow.Provider.Id && f.Subject == flow.Forge.NameId)));
    }

    [Fact]
    public async Task Xsw_unsigned_assertion_before_the_signed_one_is_refused()
    {
        var flow = await StartAsync();
        var document = SignedDocument(flow.Forge);
        var signed = Assertion(document);
        signed.ParentNode!.InsertBefore(Evil(signed, "victim@example.com"), signed);
        await RefusedAsync(flow, SamlForge.Encode(document), "assertion_count");
    }

    [Fact]
    public async Task Xsw_unsigned_assertion_after_the_signed_one_is_refused()
    {
        var flow = await StartAsync();
        var document = SignedDocument(flow.Forge);
        var signed = Assertion(document);
        signed.ParentNode!.AppendChild(Evil(signed, "victim@example.com"));
        await RefusedAsync(flow, SamlForge.Encode(document), "assertion_count");
    }

    [Fact]
    public async Task Xsw_duplicate_id_evil_assertion_in_place_and_the_signed_one_moved_into_extensions_is_refused()
    {
        var flow = await StartAsync();
        var document = SignedDocument(flow.Forge);
        var signed = Assertion(document);
        var root = document.DocumentElement!;
        var evil = Evil(signed, "victim@example.com", signed.GetAttribute("ID"));
        root.ReplaceChild(evil, signed);
        var extensions = document.CreateElement("samlp", "Extensions", Protocol);
        extensions.AppendChild(signed);
        root.InsertAfter(extensions, root.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == "Issuer"));
        await RefusedAsync(flow, SamlForge.Encode(document), "duplicate_id");
    }

    [Fact]
    public async Task Xsw_signed_assertion_wrapped_in_the_advice_of_an_evil_assertion_carrying_its_signature_is_refused()
    {
        var flow = await StartAsync();
        var document = SignedDocument(flow.Forge);
        var signed = Assertion(document);
        var root = document.DocumentElement!;
        var evil = Evil(signed, "victim@example.com");
        var signature = signed.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == "Signature");
        signed.RemoveChild(signature);
        evil.InsertAfter(signature, evil.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == "Issuer"));
        var advice = document.CreateElement("saml", "Advice", Saml);
        advice.AppendChild(signed.CloneNode(deep: true));
        evil.InsertBefore(advice, evil.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == "AttributeStatement"));
        root.ReplaceChild(evil, signed);
        await RefusedAsync(flow, SamlForge.Encode(document), "assertion_count");
    }

    [Fact]
    public async Task Xsw_signed_assertion_hidden_in_the_signature_object_of_an_evil_assertion_is_refused()
    {
        var flow = await StartAsync();
        var document = SignedDocument(flow.Forge);
        var signed = Assertion(document);
        var evil = Evil(signed, "victim@example.com");
        var signature = (XmlElement)signed.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == "Signature").CloneNode(deep: true);
        var original = (XmlElement)signed.CloneNode(deep: true);
        original.RemoveChild(original.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == "Signature"));
        var obj = document.CreateElement("ds", "Object", DSig);
        obj.AppendChild(original);
        signature.AppendChild(obj);
        evil.InsertAfter(signature, evil.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == "Issuer"));
        document.DocumentElement!.ReplaceChild(evil, signed);
        await RefusedAsync(flow, SamlForge.Encode(document), "assertion_count");
    }

    [Fact]
    public async Task Xsw_signed_response_copied_into_its_own_signature_object_under_an_evil_root_is_refused()
    {
        var flow = await StartAsync(wantAssertionsSigned: false);
        var document = flow.Forge.Build();
        SamlForge.Sign(document, document.DocumentElement!, idp.Key, idp.Certificate);
        var root = document.DocumentElement!;
        var signature = root.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == "Signature");
        var original = (XmlElement)root.CloneNode(deep: true);
        original.RemoveChild(original.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == "Signature"));
        var obj = document.CreateElement("ds", "Object", DSig);
        obj.AppendChild(original);
        signature.AppendChild(obj);
        root.SetAttribute("ID", "_evil" + Guid.NewGuid().ToString("N"));
        SamlForge.Element(root, "NameID").InnerText = "victim@example.com";

        // The copy repeats the assertion's ID: refused before any signature is looked at.
        await RefusedAsync(flow, SamlForge.Encode(document), "duplicate_id");
    }

    [Fact]
    public async Task Moved_signature_assertion_signature_moved_to_the_response_of_a_changed_assertion_is_refused()
    {
        var flow = await StartAsync();
        var document = SignedDocument(flow.Forge);
        var signed = Assertion(document);
        var signature = signed.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == "Signature");
        signed.RemoveChild(signature);
        var root = document.DocumentElement!;
        root.InsertAfter(signature, root.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == "Issuer"));
        SamlForge.Element(signed, "NameID").InnerText = "victim@example.com";
        await RefusedAsync(flow, SamlForge.Encode(document), "assertion_unsigned");
    }

    [Fact]
    public async Task Partly_signed_assertion_whose_signature_covers_another_element_is_refused()
    {
        var flow = await StartAsync();
        var document = flow.Forge.Build();
        var status = SamlForge.Element(document, "Status");
        status.SetAttribute("ID", "_status" + Guid.NewGuid().ToString("N"));

        // A valid signature by the IdP's key, inside the assertion, over the Status element only.
        var assertion = Assertion(document);
        SamlForge.Sign(document, status, idp.Key, idp.Certificate, insertInto: assertion);
        await RefusedAsync(flow, SamlForge.Encode(document), "signature_reference");
    }

    [Fact]
    public async Task Comment_injection_in_nameid_does_not_truncate_the_identity()
    {
        var flow = await StartAsync();
        var forge = flow.Forge with { NameId = $"admin.{Guid.NewGuid():N}@example.com.attacker.net" };
        var document = SignedDocument(forge);
        var nameId = SamlForge.Element(document, "NameID");
        var cut = forge.NameId.IndexOf(".attacker.net", StringComparison.Ordinal);

        // After signing: exclusive c14n without comments ignores the comment, so the signature still holds.
        nameId.InnerXml = string.Empty;
        nameId.AppendChild(document.CreateTextNode(forge.NameId[..cut]));
        nameId.AppendChild(document.CreateComment(string.Empty));
        nameId.AppendChild(document.CreateTextNode(forge.NameId[cut..]));
        await RefusedAsync(flow with { Forge = forge }, SamlForge.Encode(document), "nameid_not_text");
        var truncated = forge.NameId[..cut];
        Assert.False(await app.DbAsync(db => db.Users.AnyAsync(u => u.Email == truncated || u.Email == forge.NameId)));

        // The control: the same signed response without the comment signs in as the full name.
        var next = await NextAsync(flow);
        await AcceptedAsync(next, (next.Forge with { NameId = forge.NameId }).Signed(idp.Key, idp.Certificate));
    }

    [Fact]
    public async Task Response_signed_by_another_key_claiming_the_idp_certificate_is_refused()
    {
        var flow = await StartAsync();
        using var other = RSA.Create(2048);
        await RefusedAsync(flow, flow.Forge.Signed(other, idp.Certificate), "signature_invalid");
    }

    [Fact]
    public async Task Key_in_keyinfo_that_is_not_the_idps_is_not_trusted()
    {
        var flow = await StartAsync();
        using var other = RSA.Create(2048);
        await RefusedAsync(flow, flow.Forge.Signed(other, SamlIdpFixture.SelfSigned(other, "CN=attacker")), "signature_invalid");
    }

    [Fact]
    public async Task Unsigned_response_is_refused()
    {
        var flow = await StartAsync();
        await RefusedAsync(flow, SamlForge.Encode(flow.Forge.Build()), "unsigned");
    }

    [Fact]
    public async Task Signed_response_with_an_unsigned_assertion_is_refused_unless_the_provider_accepts_response_signatures()
    {
        var flow = await StartAsync();
        var document = flow.Forge.Build();
        SamlForge.Sign(document, document.DocumentElement!, idp.Key, idp.Certificate);
        await RefusedAsync(flow, SamlForge.Encode(document), "assertion_unsigned");

        // The control: a provider set to want_assertions_signed=false takes the Response's signature over the assertion.
        var lenient = await StartAsync(wantAssertionsSigned: false);
        var signedResponse = lenient.Forge.Build();
        SamlForge.Sign(signedResponse, signedResponse.DocumentElement!, idp.Key, idp.Certificate);
        await AcceptedAsync(lenient, SamlForge.Encode(signedResponse));
    }

    [Fact]
    public async Task Wrong_audience_is_refused()
    {
        var flow = await StartAsync();
        await RefusedAsync(flow, (flow.Forge with { Audience = "https://other-sp.example/saml" }).Signed(idp.Key, idp.Certificate), "audience");
    }

    [Fact]
    public async Task Wrong_recipient_is_refused()
    {
        var flow = await StartAsync();
        await RefusedAsync(flow, (flow.Forge with { Recipient = "https://other-sp.example/acs" }).Signed(idp.Key, idp.Certificate), "recipient");
    }

    [Fact]
    public async Task Wrong_destination_is_refused()
    {
        var flow = await StartAsync();
        await RefusedAsync(flow, (flow.Forge with { Destination = "https://other-sp.example/acs" }).Signed(idp.Key, idp.Certificate), "destination");
    }

    [Fact]
    public async Task Assertion_from_another_issuer_is_refused()
    {
        var flow = await StartAsync();
        await RefusedAsync(flow, (flow.Forge with { IdpEntityId = "urn:other:idp" }).Signed(idp.Key, idp.Certificate), "issuer");
    }

    [Fact]
    public async Task Wrong_in_response_to_is_refused()
    {
        var flow = await StartAsync();
        var unknown = "_" + Guid.NewGuid().ToString("N");
        await RefusedAsync(flow with { RequestId = unknown }, (flow.Forge with { InResponseTo = unknown }).Signed(idp.Key, idp.Certificate), "in_response_to");
    }

    [Fact]
    public async Task Missing_in_response_to_unsolicited_response_is_refused()
    {
        var flow = await StartAsync();
        await RefusedAsync(flow with { RequestId = string.Empty }, (flow.Forge with { InResponseTo = string.Empty }).Signed(idp.Key, idp.Certificate), "in_response_to");
    }

    [Fact]
    public async Task In_response_to_of_another_providers_request_is_refused()
    {
        var other = await StartAsync();
        var flow = await StartAsync();
        await RefusedAsync(flow with { RequestId = other.RequestId }, (flow.Forge with { InResponseTo = other.RequestId }).Signed(idp.Key, idp.Certificate), "in_response_to");
    }

    [Fact]
    public async Task Already_used_in_response_to_is_refused()
    {
        var flow = await StartAsync();
        await AcceptedAsync(flow, flow.Forge.Signed(idp.Key, idp.Certificate));

        // A second, freshly signed assertion answering the same (now used) AuthnRequest.
        await RefusedAsync(flow, (flow.Forge with { AssertionId = "_a" + Guid.NewGuid().ToString("N"), NameId = "second@example.com" }).Signed(idp.Key, idp.Certificate), "in_response_to");
    }

    [Fact]
    public async Task Expired_conditions_are_refused()
    {
        var flow = await StartAsync();
        var forge = flow.Forge with { NotBefore = DateTime.UtcNow.AddMinutes(-20), NotOnOrAfter = DateTime.UtcNow.AddMinutes(-10) };
        await RefusedAsync(flow, forge.Signed(idp.Key, idp.Certificate), "expired");
    }

    [Fact]
    public async Task Not_yet_valid_conditions_are_refused()
    {
        var flow = await StartAsync();
        var forge = flow.Forge with { NotBefore = DateTime.UtcNow.AddMinutes(10), NotOnOrAfter = DateTime.UtcNow.AddMinutes(20) };
        await RefusedAsync(flow, forge.Signed(idp.Key, idp.Certificate), "not_yet_valid");
    }

    [Fact]
    public async Task Replayed_assertion_id_is_refused_even_for_a_new_request()
    {
        var flow = await StartAsync();
        await AcceptedAsync(flow, flow.Forge.Signed(idp.Key, idp.Certificate));

        // The same assertion ID, re-signed for a new, live AuthnRequest.
        var next = await NextAsync(flow);
        await RefusedAsync(next, (next.Forge with { AssertionId = flow.Forge.AssertionId }).Signed(idp.Key, idp.Certificate), "replay");

        // The exact response posted again is refused too (its request is used, its assertion recorded).
        var again = await SamlBrowser.PostToAcsAsync(flow.Browser, flow.Provider.AcsUrl, flow.Forge.Signed(idp.Key, idp.Certificate), flow.RequestId);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task Dtd_and_external_entity_xxe_payload_is_refused_before_parsing_entities()
    {
        var flow = await StartAsync();
        var xml = flow.Forge.Build().OuterXml.Replace(flow.Forge.NameId, "&xxe;", StringComparison.Ordinal);
        var payload = "<?xml version=\"1.0\"?><!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>" + xml;
        await RefusedAsync(flow, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(payload)), "dtd");
    }

    [Fact]
    public async Task A_signed_assertion_stuffed_with_deeply_nested_elements_is_refused_before_its_digest_is_computed()
    {
        // Canonicalising for the digest recurses per level: thousands of levels could end the process. Refused as
        // malformed at parse time, before any signature work (found in the attacker's review).
        var flow = await StartAsync();
        var signed = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(flow.Forge.Signed(idp.Key, idp.Certificate)));
        var deep = string.Concat(Enumerable.Repeat("<a>", 5000)) + string.Concat(Enumerable.Repeat("</a>", 5000));
        var stuffed = signed.Replace("</saml:Assertion>", deep + "</saml:Assertion>", StringComparison.Ordinal);
        Assert.NotEqual(signed, stuffed);
        await RefusedAsync(flow, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(stuffed)), "malformed");
    }

    [Fact]
    public async Task Login_csrf_a_valid_response_posted_from_another_browser_signs_nobody_in()
    {
        var flow = await StartAsync();
        using var victim = SamlBrowser.Create(app);
        var acs = await SamlBrowser.PostToAcsAsync(victim, flow.Provider.AcsUrl, flow.Forge.Signed(idp.Key, idp.Certificate), flow.RequestId);
        Assert.Equal(HttpStatusCode.SeeOther, acs.StatusCode);
        var end = await victim.GetAsync(acs.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.BadRequest, end.StatusCode);
        Assert.Contains("<h1>Sign-in failed</h1>", await end.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("scaikey_signin", string.Join(";", end.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : []), StringComparison.Ordinal);
        var reasons = await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == flow.Provider.Id && e.Action == "federation.refused").Select(e => e.Reason).ToListAsync());
        Assert.Equal(["browser_mismatch"], reasons);
        Assert.False(await app.DbAsync(db => db.FederatedIdentities.AnyAsync(f => f.IdentityProviderId == flow.Provider.Id)));
    }

    [Fact]
    public async Task Sha1_signature_is_refused()
    {
        var flow = await StartAsync();
        await RefusedAsync(flow, flow.Forge.Signed(idp.Key, idp.Certificate, "http://www.w3.org/2000/09/xmldsig#rsa-sha1"), "signature_algorithm");
    }

    [PeerFact("node", "peers")]
    public async Task Wrapping_and_comment_injection_on_a_response_the_samlify_idp_signed_are_refused()
    {
        var provider = await SamlFederationTests.CreateProviderAsync(app, new { idp_metadata_url = idp.BaseUrl + "/metadata" });
        var metadata = await (await app.Anonymous().GetAsync(new Uri(provider.MetadataUrl).PathAndQuery)).Content.ReadAsStringAsync();
        await idp.RegisterServiceProviderAsync(metadata);
        var email = $"real.{Guid.NewGuid():N}@example.com.attacker.net";
        await idp.SetUserAsync(email);

        async Task<(Flow Flow, XmlDocument Document)> RealAsync()
        {
            var browser = SamlBrowser.Create(app);
            var sso = await SamlFederationTests.StartAsync(browser, provider);
            var answer = await idp.AnswerAsync(sso);
            var requestId = SamlFederationTests.QueryValue(sso, "RelayState");
            var flow = new Flow(provider, browser, requestId, new SamlForge(idp.EntityId, provider.SpEntityId, provider.AcsUrl, requestId) { NameId = email });
            return (flow, SamlForge.Decode(answer["SAMLResponse"]!.GetValue<string>()));
        }

        var (wrapped, document) = await RealAsync();
        var signed = Assertion(document);
        signed.ParentNode!.InsertBefore(Evil(signed, "victim@example.com"), signed);
        await RefusedAsync(wrapped, SamlForge.Encode(document), "assertion_count");

        var (commented, second) = await RealAsync();
        var nameId = SamlForge.Element(second, "NameID");
        var cut = email.IndexOf(".attacker.net", StringComparison.Ordinal);
        nameId.InnerXml = string.Empty;
        nameId.AppendChild(second.CreateTextNode(email[..cut]));
        nameId.AppendChild(second.CreateComment(string.Empty));
        nameId.AppendChild(second.CreateTextNode(email[cut..]));
        await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == provider.Id).ExecuteDeleteAsync());
        await RefusedAsync(commented, SamlForge.Encode(second), "nameid_not_text");

        // The control: the real response, untouched, signs in.
        var (control, untouched) = await RealAsync();
        await AcceptedAsync(control, SamlForge.Encode(untouched));
    }
}
