using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>
/// The config keys of a SAML identity provider and their checks (the SAML case of
/// <see cref="IdentityProviders.IdentityProviderConfig.Validate"/>). The IdP is described by its metadata
/// (<c>idp_metadata_xml</c> or <c>idp_metadata_url</c>) or explicitly (<c>entity_id</c>, <c>sso_url</c>,
/// <c>idp_certificate</c>); an explicit key overrides what the metadata says.
/// </summary>
internal static class SamlConfig
{
    public const string MetadataXml = "idp_metadata_xml";
    public const string MetadataUrl = "idp_metadata_url";
    public const string EntityId = "entity_id";
    public const string SsoUrl = "sso_url";
    public const string Certificate = "idp_certificate";
    public const string Domains = "domains";
    public const string TrustEmail = "trust_email";
    public const string WantAssertionsSigned = "want_assertions_signed";
    public const string EmailAttribute = "email_attribute";
    public const string FirstNameAttribute = "first_name_attribute";
    public const string LastNameAttribute = "last_name_attribute";
    public const string SpPrivateKey = "sp_private_key";
    public const string SpCertificate = "sp_certificate";

    public const int MaxCertificates = 10;

    public static void Validate(JsonObject config, JsonObject? secrets, ValidationErrors errors, bool allowHttp)
    {
        var xml = OptionalString(config, MetadataXml, errors);
        var url = OptionalString(config, MetadataUrl, errors);
        var entityId = OptionalString(config, EntityId, errors);
        var ssoUrl = OptionalString(config, SsoUrl, errors);
        var certificates = ReadCertificates(config, errors);
        if (url is not null && !IsHttpsUrl(url, allowHttp))
        {
            errors.ValueError(Loc(MetadataUrl), "must be an absolute https URL");
        }

        if (ssoUrl is not null && !IsHttpsUrl(ssoUrl, allowHttp))
        {
            errors.ValueError(Loc(SsoUrl), "must be an absolute https URL");
        }

        if (xml is not null && url is not null)
        {
            errors.ValueError(Loc(MetadataUrl), $"give {MetadataXml} or {MetadataUrl}, not both");
        }
        else if (xml is not null)
        {
            var metadata = SamlIdpMetadata.Parse(xml, entityId, out var error);
            if (metadata is null)
            {
                errors.ValueError(Loc(MetadataXml), error);
            }
            else if (ssoUrl is null && (metadata.SsoUrl is null || !IsHttpsUrl(metadata.SsoUrl, allowHttp)))
            {
                errors.ValueError(Loc(MetadataXml), $"has no HTTP-Redirect SingleSignOnService at an https URL; set {SsoUrl}");
            }
            else if (certificates is null && metadata.Certificates.Count == 0)
            {
                errors.ValueError(Loc(MetadataXml), $"has no signing certificate; set {Certificate}");
            }
        }
        else if (url is null)
        {
            // Without metadata every part must be given: who the IdP is, where to send users, which keys sign.
            if (entityId is null && !config.ContainsKey(EntityId))
            {
                errors.Missing(Loc(EntityId));
            }

            if (ssoUrl is null && !config.ContainsKey(SsoUrl))
            {
                errors.Missing(Loc(SsoUrl));
            }

            if (certificates is null && !config.ContainsKey(Certificate))
            {
                errors.Missing(Loc(Certificate));
            }
        }

        OptionalBool(config, TrustEmail, errors);
        OptionalBool(config, WantAssertionsSigned, errors);
        OptionalString(config, EmailAttribute, errors);
        OptionalString(config, FirstNameAttribute, errors);
        OptionalString(config, LastNameAttribute, errors);
        ReadDomains(config, errors);
        ValidateSpKey(config, secrets, errors);
    }

    private static void ValidateSpKey(JsonObject config, JsonObject? secrets, ValidationErrors errors)
    {
        var certificateText = OptionalString(config, SpCertificate, errors);
        X509Certificate2? certificate = null;
        if (certificateText is not null && (certificate = SamlXml.ParseCertificate(certificateText)) is null)
        {
            errors.ValueError(Loc(SpCertificate), "must be an X.509 certificate in PEM or base64 DER");
            return;
        }

        if (secrets is null)
        {
            return;
        }

        var keyText = secrets.TryGetPropertyValue(SpPrivateKey, out var node) && node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;
        if ((keyText is null) != (certificateText is null))
        {
            errors.ValueError(Loc(keyText is null ? SpPrivateKey : SpCertificate), $"{SpPrivateKey} and {SpCertificate} are set together (the SP signs with the key; its metadata publishes the certificate)");
            return;
        }

        if (keyText is null)
        {
            return;
        }

        using var key = SamlXml.ParseRsaKey(keyText);
        if (key is null)
        {
            errors.ValueError(Loc(SpPrivateKey), "must be an RSA private key in PEM");
            return;
        }

        using var published = certificate!.GetRSAPublicKey();
        if (published is null || !published.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            errors.ValueError(Loc(SpCertificate), $"must be the certificate of {SpPrivateKey}'s public key");
        }
    }

    /// <summary>The certificates of idp_certificate (one string or a list, for rollover); null when the key is absent.</summary>
    public static List<X509Certificate2>? ReadCertificates(JsonObject config, ValidationErrors? errors)
    {
        if (!config.TryGetPropertyValue(Certificate, out var node) || node is null)
        {
            return null;
        }

        var texts = node switch
        {
            JsonValue value when value.GetValueKind() == JsonValueKind.String => [value.GetValue<string>()],
            JsonArray array when array.Count is > 0 and <= MaxCertificates && array.All(i => i?.GetValueKind() == JsonValueKind.String) =>
                array.Select(i => i!.GetValue<string>()).ToList(),
            _ => (List<string>?)null,
        };
        if (texts is null)
        {
            errors?.ValueError(Loc(Certificate), $"must be a certificate (PEM or base64 DER) or a list of 1 to {MaxCertificates} of them");
            return null;
        }

        var certificates = new List<X509Certificate2>();
        foreach (var text in texts)
        {
            if (SamlXml.ParseCertificate(text) is not { } certificate || !CanVerify(certificate))
            {
                errors?.ValueError(Loc(Certificate), "must hold X.509 certificates (PEM or base64 DER) with an RSA key");
                return null;
            }

            certificates.Add(certificate);
        }

        return certificates;
    }

    // Responses are verified with RSA (SHA-256 and up) only; a certificate with another key could verify nothing.
    private static bool CanVerify(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is not null;
    }

    public static IReadOnlyList<string> ReadDomains(JsonObject config, ValidationErrors? errors)
    {
        if (!config.TryGetPropertyValue(Domains, out var node) || node is null)
        {
            return [];
        }

        if (node is JsonArray array && array.All(i => i?.GetValueKind() == JsonValueKind.String && i.GetValue<string>().Trim().Length > 0))
        {
            return array.Select(i => i!.GetValue<string>().Trim().ToLowerInvariant()).ToList();
        }

        errors?.ValueError(Loc(Domains), "must be a list of domain names");
        return [];
    }

    public static string? String(JsonObject config, string key) =>
        config.TryGetPropertyValue(key, out var node) && node?.GetValueKind() == JsonValueKind.String && node.GetValue<string>().Trim().Length > 0
            ? node.GetValue<string>().Trim()
            : null;

    public static bool? Bool(JsonObject config, string key) =>
        config.TryGetPropertyValue(key, out var node) && node?.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? node!.GetValue<bool>() : null;

    public static bool IsHttpsUrl(string text, bool allowHttp) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Host.Length > 0 && uri.UserInfo.Length == 0 && uri.Fragment.Length == 0
        && (uri.Scheme == Uri.UriSchemeHttps || (allowHttp && uri.Scheme == Uri.UriSchemeHttp));

    private static string? OptionalString(JsonObject config, string key, ValidationErrors errors)
    {
        if (!config.TryGetPropertyValue(key, out var node) || node is null)
        {
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            errors.Add(Loc(key), "Input should be a valid string", "string_type");
            return null;
        }

        var text = node.GetValue<string>();
        if (text.Trim().Length == 0)
        {
            errors.Add(Loc(key), "String should have at least 1 character", "string_too_short");
            return null;
        }

        return text.Trim();
    }

    private static void OptionalBool(JsonObject config, string key, ValidationErrors errors)
    {
        if (config.TryGetPropertyValue(key, out var node) && node is not null && node.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add(Loc(key), "Input should be a valid boolean", "bool_type");
        }
    }

    private static object[] Loc(string key) => ["body", "config", key];
}
