namespace ScaiKey.Api.AdminConsole.Components;

/// <summary>How a config key is edited: a line, a block of text, a list, a number, a tick box, or a write-only secret.</summary>
public enum ProviderFieldKind
{
    Text,
    Multiline,
    List,
    Number,
    Flag,
    Secret,
    SecretMultiline,
}

/// <summary>One config key of an identity provider type, as the form shows it.</summary>
public sealed record ProviderField(string Key, string Label, ProviderFieldKind Kind, string? Hint = null)
{
    public bool IsSecret => Kind is ProviderFieldKind.Secret or ProviderFieldKind.SecretMultiline;
}

/// <summary>
/// The config keys the API defines for each provider type (IdentityProviderCreate's description). Nested settings
/// (OIDC claims, LDAP attributes) are not edited here; an edit leaves them as they are, since the API merges config
/// key by key.
/// </summary>
public static class ProviderFields
{
    public static readonly string[] Types = ["OIDC", "LDAP", "SAML"];

    private static readonly ProviderField Domains = new("domains", "Email domains (one per line)", ProviderFieldKind.List,
        "Users whose email is in one of these domains are sent to this provider; with trusted emails, only these domains are trusted.");

    private static readonly ProviderField TrustEmail = new("trust_email", "Trust the provider's verified email addresses", ProviderFieldKind.Flag,
        "An existing user without roles is linked at once when the provider vouches for the address.");

    public static IReadOnlyList<ProviderField> For(string type) => type switch
    {
        "OIDC" =>
        [
            new("issuer", "Issuer URL", ProviderFieldKind.Text, "https://login.example.com — its discovery document is read from there."),
            new("client_id", "Client id", ProviderFieldKind.Text),
            new("client_secret", "Client secret", ProviderFieldKind.Secret),
            new("scopes", "Scopes (space-separated)", ProviderFieldKind.Text, "openid is always requested."),
            Domains, TrustEmail,
        ],
        "LDAP" =>
        [
            new("url", "Server URL", ProviderFieldKind.Text, "ldaps://ldap.example.com or ldap://… with StartTLS."),
            new("start_tls", "Use StartTLS (ldap:// only)", ProviderFieldKind.Flag),
            new("base_dn", "Base DN", ProviderFieldKind.Text, "dc=example,dc=com"),
            new("bind_dn", "Bind DN", ProviderFieldKind.Text),
            new("bind_password", "Bind password", ProviderFieldKind.Secret),
            new("user_filter", "User filter", ProviderFieldKind.Text, "Empty: the default filter."),
            new("group_filter", "Group filter", ProviderFieldKind.Text, "Empty: the default filter."),
            new("sync_interval_minutes", "Sync interval in minutes", ProviderFieldKind.Number, "0 or empty: no periodic sync."),
        ],
        "SAML" =>
        [
            new("idp_metadata_url", "IdP metadata URL", ProviderFieldKind.Text, "Either the metadata (URL or XML), or entity id, SSO URL and certificate."),
            new("idp_metadata_xml", "IdP metadata XML", ProviderFieldKind.Multiline),
            new("entity_id", "IdP entity id", ProviderFieldKind.Text),
            new("sso_url", "IdP single sign-on URL", ProviderFieldKind.Text),
            new("idp_certificate", "IdP signing certificate (PEM)", ProviderFieldKind.Multiline),
            new("want_assertions_signed", "Require signed assertions", ProviderFieldKind.Flag),
            new("email_attribute", "Email attribute", ProviderFieldKind.Text),
            new("first_name_attribute", "First name attribute", ProviderFieldKind.Text),
            new("last_name_attribute", "Last name attribute", ProviderFieldKind.Text),
            new("sp_certificate", "Service provider certificate (PEM)", ProviderFieldKind.Multiline),
            new("sp_private_key", "Service provider private key (PEM)", ProviderFieldKind.SecretMultiline),
            Domains, TrustEmail,
        ],
        _ => [],
    };

    public static string TypeName(string? type) => type switch
    {
        "OIDC" => "OpenID Connect",
        "LDAP" => "LDAP directory",
        "SAML" => "SAML 2.0",
        _ => type ?? string.Empty,
    };
}
