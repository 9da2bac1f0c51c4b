using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.Xml;
using System.Text.Json.Nodes;
using System.Xml;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Tests.Infrastructure;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// SAML 2.0 sign-in end to end against a real IdP (samlify, tests/peers/saml-idp.mjs): SP metadata, the
/// HTTP-Redirect AuthnRequest, the IdP's signed HTTP-POST response, just-in-time provisioning and the link.
/// </summary>
public sealed class SamlFederationTests(FederationApp app, SamlIdpFixture idp) : IClassFixture<FederationApp>, IClassFixture<SamlIdpFixture>
{
    internal sealed record Provider(string TenantId, string Slug, string Id, string SpEntityId, string AcsUrl, string MetadataUrl);

    internal static async Task<Provider> CreateProviderAsync(ScaiKeyApp app, object config, string? tenantId = null)
    {
        var tenant = tenantId ?? await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var slug = (await (await admin.GetAsync($"/api/v1/admin/tenants/{tenant}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var created = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/identity-providers",
            new { name = "SAML " + Guid.NewGuid().ToString("N")[..8], type = "SAML", config })).ReadJsonAsync(201))["data"]!;
        return new Provider(tenant, slug, created["id"]!.GetValue<string>(), created["sp_entity_id"]!.GetValue<string>(),
            created["acs_url"]!.GetValue<string>(), created["sp_metadata_url"]!.GetValue<string>());
    }

    /// <summary>The start route's redirect to the IdP (the AuthnRequest URL).</summary>
    internal static async Task<string> StartAsync(HttpClient browser, Provider provider, string? returnUrl = null)
    {
        var url = $"/t/{provider.Slug}/federation/{provider.Id}/saml/start" + (returnUrl is null ? string.Empty : "?return_url=" + Uri.EscapeDataString(returnUrl));
        var response = await browser.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!.OriginalString;
    }

    internal static string QueryValue(string url, string name) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(url).Query).GetValueOrDefault(name).ToString();

    private async Task<string> MetadataAsync(Provider provider)
    {
        var response = await app.Anonymous().GetAsync(new Uri(provider.MetadataUrl).PathAndQuery);
        Assert.Equal("application/samlmetadata+xml", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Start, the IdP's answer, the ACS and the hand-over; returns the last response (the sign-in's end).</summary>
    private async Task<(HttpResponseMessage End, JsonNode Answer)> SignInAsync(HttpClient browser, Provider provider, string? returnUrl)
    {
        var sso = await StartAsync(browser, provider, returnUrl);
        Assert.StartsWith(idp.BaseUrl + "/sso?SAMLRequest=", sso, StringComparison.Ordinal);
        var answer = await idp.AnswerAsync(sso);
        Assert.Equal(provider.AcsUrl, answer["action"]!.GetValue<string>());
        var acs = await SamlBrowser.PostToAcsAsync(browser, provider.AcsUrl, answer["SAMLResponse"]!.GetValue<string>(), answer["RelayState"]!.GetValue<string>());
        if (acs.StatusCode != HttpStatusCode.SeeOther)
        {
            var reasons = await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == provider.Id).Select(e => e.Reason).ToListAsync());
            Assert.Fail($"{(int)acs.StatusCode}: refused for {string.Join(", ", reasons)}\n{SamlForge.Decode(answer["SAMLResponse"]!.GetValue<string>()).OuterXml}");
        }

        var complete = acs.Headers.Location!.OriginalString;
        Assert.StartsWith($"/federation/{provider.Id}/saml/complete?request=", complete, StringComparison.Ordinal);
        return (await browser.GetAsync(complete), answer);
    }

    [PeerFact("node", "peers")]
    public async Task Sign_in_through_the_samlify_idp_provisions_the_user_then_uses_the_link()
    {
        var provider = await CreateProviderAsync(app, new { idp_metadata_url = idp.BaseUrl + "/metadata" });
        var metadata = await MetadataAsync(provider);
        await idp.RegisterServiceProviderAsync(metadata);
        var email = $"ada.{Guid.NewGuid():N}@example.com";
        await idp.SetUserAsync(email, "Ada", "Lovelace");

        using var browser = SamlBrowser.Create(app);
        var returnUrl = $"/t/{provider.Slug}/account";
        var (end, answer) = await SignInAsync(browser, provider, returnUrl);
        Assert.True(end.StatusCode == HttpStatusCode.SeeOther, $"{(int)end.StatusCode}: {await end.Content.ReadAsStringAsync()}");
        Assert.Equal(returnUrl, end.Headers.Location!.OriginalString);
        Assert.False(answer["requestSigned"]!.GetValue<bool>());

        // Signed in: the account page shows the user instead of sending them to the login page.
        var account = await browser.GetAsync(returnUrl);
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        Assert.Contains(email, await account.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var (user, links, actions) = await app.DbAsync(async db =>
        {
            var u = await db.Users.AsNoTracking().SingleAsync(x => x.TenantId == provider.TenantId && x.Email == email);
            var l = await db.FederatedIdentities.AsNoTracking().Where(f => f.IdentityProviderId == provider.Id).ToListAsync();
            var a = await db.AuditEvents.AsNoTracking().Where(e => e.TenantId == provider.TenantId && e.Action.StartsWith("federation."))
                .OrderBy(e => e.CreatedAt).Select(e => e.Action).ToListAsync();
            return (u, l, a);
        });
        Assert.Equal(IdentitySource.Saml, user.IdentitySource);
        Assert.Null(user.PasswordHash);
        Assert.Equal("Ada", user.FirstName);
        Assert.Equal("Lovelace", user.LastName);
        Assert.False(user.EmailVerified); // trust_email is not set: SAML has no verified flag of its own
        var link = Assert.Single(links);
        Assert.Equal((user.Id, email, email), (link.UserId, link.Subject, link.Email));
        Assert.Equal(["federation.provisioned"], actions);

        // The second sign-in (a new browser) finds the link: no second user, a federation.signed_in event.
        using var again = SamlBrowser.Create(app);
        var (second, _) = await SignInAsync(again, provider, null);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("You are signed in", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var after = await app.DbAsync(async db => (
            await db.Users.CountAsync(u => u.TenantId == provider.TenantId),
            await db.FederatedIdentities.CountAsync(f => f.IdentityProviderId == provider.Id),
            await db.AuditEvents.Where(e => e.TenantId == provider.TenantId && e.Action == "federation.signed_in").Select(e => e.TargetId).ToListAsync()));
        Assert.Equal((1, 1), (after.Item1, after.Item2));
        Assert.Equal([user.Id], after.Item3);
    }

    [PeerFact("node", "peers")]
    public async Task Sp_key_signs_the_metadata_and_the_authn_request_which_samlify_verifies()
    {
        using var spKey = RSA.Create(2048);
        var spCertificate = SamlIdpFixture.SelfSigned(spKey, "CN=ScaiKey SP");
        var idpMetadata = await (await idp.Http.GetAsync(idp.BaseUrl + "/metadata")).Content.ReadAsStringAsync();
        var provider = await CreateProviderAsync(app, new
        {
            idp_metadata_xml = idpMetadata,
            sp_private_key = spKey.ExportPkcs8PrivateKeyPem(),
            sp_certificate = spCertificate.ExportCertificatePem(),
        });

        var metadata = await MetadataAsync(provider);
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(metadata);
        var root = document.DocumentElement!;
        Assert.Equal(provider.SpEntityId, root.GetAttribute("entityID"));
        var acs = SamlForge.Element(document, "AssertionConsumerService");
        Assert.Equal((provider.AcsUrl, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"), (acs.GetAttribute("Location"), acs.GetAttribute("Binding")));
        var descriptor = SamlForge.Element(document, "SPSSODescriptor");
        Assert.Equal(("true", "true"), (descriptor.GetAttribute("AuthnRequestsSigned"), descriptor.GetAttribute("WantAssertionsSigned")));

        // The metadata's signature holds under the SP certificate, and covers the whole EntityDescriptor.
        var signed = new SignedXml(document);
        signed.LoadXml(SamlForge.Element(document, "Signature"));
        Assert.True(signed.CheckSignature(spCertificate, verifySignatureOnly: true));
        Assert.Equal("#" + root.GetAttribute("ID"), ((Reference)signed.SignedInfo!.References[0]!).Uri);
        SamlForge.Element(document, "AssertionConsumerService").SetAttribute("Location", "https://attacker.example/acs");
        Assert.False(signed.CheckSignature(spCertificate, verifySignatureOnly: true));

        // samlify (wantAuthnRequestsSigned when a Signature comes) verifies the request against that metadata.
        await idp.RegisterServiceProviderAsync(metadata);
        await idp.SetUserAsync($"signed.{Guid.NewGuid():N}@example.com");
        using var browser = SamlBrowser.Create(app);
        var (end, answer) = await SignInAsync(browser, provider, null);
        Assert.True(answer["requestSigned"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);

        // The control: without an SP key the metadata is unsigned and says so.
        var plain = await CreateProviderAsync(app, new { idp_metadata_xml = idpMetadata });
        var unsigned = await MetadataAsync(plain);
        Assert.DoesNotContain("Signature", unsigned, StringComparison.Ordinal);
        Assert.Contains("AuthnRequestsSigned=\"false\"", unsigned, StringComparison.Ordinal);
        Assert.Empty(QueryValue(await StartAsync(SamlBrowser.Create(app), plain), "Signature"));
    }

    [PeerFact("node", "peers")]
    public async Task Metadata_url_and_explicit_settings_register_the_same_idp_and_the_request_names_the_sp()
    {
        var provider = await CreateProviderAsync(app, new
        {
            entity_id = idp.EntityId,
            sso_url = idp.BaseUrl + "/sso",
            idp_certificate = new[] { SamlIdpFixture.SelfSigned(RSA.Create(2048), "CN=old").ExportCertificatePem(), idp.CertificatePem },
            trust_email = true,
        });
        await idp.RegisterServiceProviderAsync(await MetadataAsync(provider));
        await idp.SetUserAsync($"explicit.{Guid.NewGuid():N}@example.com");
        using var browser = SamlBrowser.Create(app);
        var sso = await StartAsync(browser, provider);
        var request = Inflate(QueryValue(sso, "SAMLRequest"));
        Assert.Equal(provider.AcsUrl, request.DocumentElement!.GetAttribute("AssertionConsumerServiceURL"));
        Assert.Equal(provider.SpEntityId, SamlForge.Element(request, "Issuer").InnerText);
        Assert.Equal(QueryValue(sso, "RelayState"), request.DocumentElement.GetAttribute("ID"));

        // The second of two configured certificates (a rollover) verifies the IdP's signature.
        var answer = await idp.AnswerAsync(sso);
        var acs = await SamlBrowser.PostToAcsAsync(browser, provider.AcsUrl, answer["SAMLResponse"]!.GetValue<string>(), answer["RelayState"]!.GetValue<string>());
        Assert.True(acs.StatusCode == HttpStatusCode.SeeOther, await acs.Content.ReadAsStringAsync());
        var end = await browser.GetAsync(acs.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        Assert.True(await app.DbAsync(db => db.Users.AnyAsync(u => u.TenantId == provider.TenantId && u.EmailVerified && u.IdentitySource == IdentitySource.Saml)));
    }

    private static XmlDocument Inflate(string base64)
    {
        using var input = new System.IO.Compression.DeflateStream(new MemoryStream(Convert.FromBase64String(base64)), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(input);
        var document = new XmlDocument();
        document.LoadXml(reader.ReadToEnd());
        return document;
    }

    [Fact]
    public async Task Saml_config_needs_metadata_or_entity_id_sso_url_and_certificate_and_a_matching_sp_key()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var url = $"/api/v1/tenants/{tenant}/identity-providers";
        async Task<List<string>> ErrorsAsync(object config) =>
            await (await admin.PostAsJsonAsync(url, new { name = "P" + Guid.NewGuid().ToString("N")[..8], type = "SAML", config })).ReadValidationErrorsAsync();

        using var key = RSA.Create(2048);
        var certificate = SamlIdpFixture.SelfSigned(key, "CN=idp").ExportCertificatePem();
        Assert.Equal(["body.config.entity_id|missing", "body.config.sso_url|missing", "body.config.idp_certificate|missing"], await ErrorsAsync(new { }));
        Assert.Equal(["body.config.idp_certificate|value_error"], await ErrorsAsync(new { entity_id = "urn:x", sso_url = "https://idp.example.com/sso", idp_certificate = "not a certificate" }));
        Assert.Equal(["body.config.idp_metadata_xml|value_error"], await ErrorsAsync(new { idp_metadata_xml = "<x/>" }));
        Assert.Equal(["body.config.idp_metadata_xml|value_error"], await ErrorsAsync(new { idp_metadata_xml = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>" }));
        Assert.Equal(["body.config.idp_metadata_url|value_error"], await ErrorsAsync(new { idp_metadata_url = "ftp://idp.example.com/metadata" }));
        Assert.Equal(["body.config.trust_email|bool_type", "body.config.domains|value_error"],
            await ErrorsAsync(new { entity_id = "urn:x", sso_url = "https://idp.example.com/sso", idp_certificate = certificate, trust_email = "yes", domains = "example.com" }));

        using var spKey = RSA.Create(2048);
        var spCertificate = SamlIdpFixture.SelfSigned(spKey, "CN=sp").ExportCertificatePem();
        var explicitIdp = new Dictionary<string, object> { ["entity_id"] = "urn:x", ["sso_url"] = "https://idp.example.com/sso", ["idp_certificate"] = certificate };
        Assert.Equal(["body.config.sp_certificate|value_error"],
            await ErrorsAsync(new Dictionary<string, object>(explicitIdp) { ["sp_private_key"] = spKey.ExportPkcs8PrivateKeyPem() }));
        Assert.Equal(["body.config.sp_certificate|value_error"],
            await ErrorsAsync(new Dictionary<string, object>(explicitIdp) { ["sp_private_key"] = key.ExportPkcs8PrivateKeyPem(), ["sp_certificate"] = spCertificate }));

        // The controls: explicit settings, and a matching SP key pair (the key sealed, never returned).
        await (await admin.PostAsJsonAsync(url, new { name = "P" + Guid.NewGuid().ToString("N")[..8], type = "SAML", config = explicitIdp })).ShouldBeAsync(201);
        var created = await (await admin.PostAsJsonAsync(url, new
        {
            name = "P" + Guid.NewGuid().ToString("N")[..8],
            type = "SAML",
            config = new Dictionary<string, object>(explicitIdp) { ["sp_private_key"] = spKey.ExportPkcs8PrivateKeyPem(), ["sp_certificate"] = spCertificate },
        })).ReadJsonAsync(201);
        Assert.Equal(["sp_private_key"], created["data"]!["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.DoesNotContain("PRIVATE KEY", created.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_refuses_a_foreign_return_url_and_an_unknown_or_disabled_provider()
    {
        var provider = await CreateProviderAsync(app, new { entity_id = "urn:x", sso_url = "http://127.0.0.1:9/sso", idp_certificate = idp.CertificatePem });
        using var browser = SamlBrowser.Create(app);
        var bad = await browser.GetAsync($"/t/{provider.Slug}/federation/{provider.Id}/saml/start?return_url=" + Uri.EscapeDataString("https://evil.example/"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/t/{provider.Slug}/federation/{Guid.NewGuid()}/saml/start")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Anonymous().GetAsync($"/federation/{Guid.NewGuid()}/saml/metadata")).StatusCode);

        // The control: the same start with the tenant's own account page is sent to the IdP.
        var sso = await StartAsync(browser, provider, $"/t/{provider.Slug}/account");
        Assert.StartsWith("http://127.0.0.1:9/sso?SAMLRequest=", sso, StringComparison.Ordinal);

        using var admin = await app.AdminAsync();
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{provider.TenantId}/identity-providers/{provider.Id}", new { enabled = false })).ShouldBeAsync(200);
        var disabled = await browser.GetAsync($"/t/{provider.Slug}/federation/{provider.Id}/saml/start");
        Assert.Equal(HttpStatusCode.BadRequest, disabled.StatusCode);
        Assert.Contains("provider_disabled", await app.DbAsync(db => db.AuditEvents.Where(e => e.TargetId == provider.Id && e.Action == "federation.refused").Select(e => e.Reason).ToListAsync()));
    }
}
