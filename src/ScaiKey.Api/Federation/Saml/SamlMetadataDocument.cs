using System.Security.Cryptography.X509Certificates;
using System.Xml;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>What an IdP's metadata (EntityDescriptor) says: its entity id, HTTP-Redirect SSO address and signing certificates.</summary>
internal sealed record SamlIdpMetadata(string EntityId, string? SsoUrl, IReadOnlyList<X509Certificate2> Certificates)
{
    public const int MaxCharacters = 512 * 1024;

    /// <summary>
    /// Reads an EntityDescriptor, or the one IdP EntityDescriptor of an EntitiesDescriptor (the one named
    /// <paramref name="entityId"/> when given). The metadata's own signature is not checked: the admin entered it, or
    /// it came over https from the address the admin entered. Returns null with <paramref name="error"/> otherwise.
    /// </summary>
    public static SamlIdpMetadata? Parse(string xml, string? entityId, out string error)
    {
        XmlDocument document;
        try
        {
            document = SamlXml.Load(xml, MaxCharacters);
        }
        catch (XmlException)
        {
            error = "is not well-formed XML without a DTD (at most 512 KiB)";
            return null;
        }

        var root = document.DocumentElement!;
        var candidates = root.NamespaceURI == SamlXml.Metadata && root.LocalName == "EntityDescriptor" ? [root]
            : root.NamespaceURI == SamlXml.Metadata && root.LocalName == "EntitiesDescriptor" ? SamlXml.Descendants(root, SamlXml.Metadata, "EntityDescriptor").ToList()
            : [];
        var idps = candidates
            .Where(e => SamlXml.Child(e, SamlXml.Metadata, "IDPSSODescriptor") is not null)
            .Where(e => entityId is null || e.GetAttribute("entityID") == entityId)
            .ToList();
        if (idps.Count != 1)
        {
            error = "must be SAML metadata with exactly one EntityDescriptor holding an IDPSSODescriptor"
                + (entityId is null ? string.Empty : " for entity_id");
            return null;
        }

        var entity = idps[0];
        var descriptor = SamlXml.Child(entity, SamlXml.Metadata, "IDPSSODescriptor")!;
        var sso = SamlXml.Children(descriptor, SamlXml.Metadata, "SingleSignOnService")
            .FirstOrDefault(s => s.GetAttribute("Binding") == SamlXml.RedirectBinding)?.GetAttribute("Location");
        var certificates = new List<X509Certificate2>();
        foreach (var key in SamlXml.Children(descriptor, SamlXml.Metadata, "KeyDescriptor"))
        {
            if (key.GetAttribute("use") is not ("" or "signing"))
            {
                continue;
            }

            foreach (var data in SamlXml.Descendants(key, SamlXml.DSig, "X509Certificate"))
            {
                if (SamlXml.ParseCertificate(data.InnerText) is not { } certificate)
                {
                    error = "holds an X509Certificate that cannot be read";
                    return null;
                }

                certificates.Add(certificate);
            }
        }

        var id = entity.GetAttribute("entityID");
        if (id.Length == 0)
        {
            error = "has an EntityDescriptor without entityID";
            return null;
        }

        error = string.Empty;
        return new SamlIdpMetadata(id, string.IsNullOrEmpty(sso) ? null : sso, certificates);
    }
}
