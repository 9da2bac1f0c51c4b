using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.IdentityProviders;

/// <summary>
/// The <c>config</c> object of an identity provider: required keys per type, write-only secrets, size limit.
/// Secret-valued keys (see <see cref="IsSecret(string?, string)"/>: declared by the type, or secret-named) are sealed under the key ring apart from the rest and never
/// returned; responses name them in secret_fields.
/// </summary>
internal static class IdentityProviderConfig
{
    public const int MaxBytes = 16 * 1024;

    // A name containing one of these words is a secret, unless it is a public identifier (below).
    private static readonly string[] SecretWords = ["secret", "password", "passwd", "credential", "token", "private", "key"];

    private static readonly string[] PublicNames = ["client_id", "entity_id", "issuer", "base_dn", "url", "sso_url"];

    // The keys each type declares secret, as the software people copy their settings from names them (Keycloak's
    // identity-provider and user-federation settings, OpenLDAP's ldap.conf and sssd, python-saml and pysaml2),
    // compared without case, '_' or '-' (bind_pw = bindPw = bind-pw). A declared key is secret whatever the name
    // rule below says: `bind_pw`, `pwd`, `passphrase` or `authtok` contain none of its words.
    private static readonly Dictionary<string, HashSet<string>> DeclaredSecrets = new(StringComparer.Ordinal)
    {
        ["OIDC"] = Canonical(
            "client_secret", "client_private_key", "private_key", "private_key_jwt", "private_jwk", "jwk", "client_assertion_key",
            "signing_key", "decryption_key", "encryption_key", "token", "refresh_token", "access_token", "api_key"),
        ["SAML"] = Canonical(
            "sp_private_key", "private_key", "private_key_new", "sp_private_key_new", "passphrase", "key_passphrase",
            "private_key_passphrase", "key_file_passphrase", "signing_key", "decryption_key", "encryption_key", "sp_key",
            "signing_private_key", "encryption_private_key"),
        ["LDAP"] = Canonical(
            "bind_password", "bind_pw", "bindpw", "bind_credential", "bind_credentials", "bind_secret", "pwd", "pw", "password",
            "passwd", "credentials", "secret", "authtok", "ldap_default_authtok", "default_authtok", "rootpw",
            "keystore_password", "truststore_password", "tls_key", "tls_key_password", "client_key", "client_key_password"),
    };

    /// <summary>The keys a provider type declares secret (in their compared form: lower case, no '_' or '-').</summary>
    public static IReadOnlyCollection<string> DeclaredSecretKeys(string type) =>
        DeclaredSecrets.TryGetValue(type, out var keys) ? keys : [];

    /// <summary>
    /// Whether a top-level key of a provider of <paramref name="type"/> holds a secret: the type declares it secret,
    /// or its name says so (<see cref="IsSecret(string)"/>, the second net). With no type (a PATCH body before the
    /// provider is read), a key any type declares counts, so the body checks err towards secret.
    /// </summary>
    public static bool IsSecret(string? type, string key)
    {
        var canonical = CanonicalName(key);
        var declared = type is null
            ? DeclaredSecrets.Values.Any(keys => keys.Contains(canonical))
            : DeclaredSecrets.TryGetValue(type, out var keys) && keys.Contains(canonical);
        return declared || IsSecret(key);
    }

    private static HashSet<string> Canonical(params string[] keys) => keys.Select(CanonicalName).ToHashSet(StringComparer.Ordinal);

    private static string CanonicalName(string key) => key.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>
    /// The name rule: whether a top-level key holds a secret because its lower-cased name contains secret, password, passwd, credential,
    /// token, private or key, and it is neither one of the required public identifiers nor a name ending in _url or
    /// _id (URLs and identifiers are public, e.g. token_url or signing_key_id). Erring towards secret only makes a
    /// value write-only; erring the other way would show it to every directory reader.
    /// </summary>
    public static bool IsSecret(string key)
    {
        var name = key.ToLowerInvariant();
        if (PublicNames.Contains(name, StringComparer.Ordinal)
            || name.EndsWith("_url", StringComparison.Ordinal) || name.EndsWith("_id", StringComparison.Ordinal))
        {
            return false;
        }

        return SecretWords.Any(word => name.Contains(word, StringComparison.Ordinal));
    }

    /// <summary>
    /// The top-level keys of a config body: a value, or null to remove the key (PATCH) or leave it unset (create).
    /// Every key and value is decoded here, inside the body binder: a lone surrogate escape throws
    /// <see cref="InvalidOperationException"/>, which the binder answers with json_invalid, so nothing that cannot
    /// be written back as JSON gets past it. Secrets must be strings and must be top-level keys, so none can hide
    /// inside a nested object in plain text.
    /// </summary>
    public static Dictionary<string, JsonNode?>? Read(BodyReader r, string field, string? type)
    {
        var raw = r.RawObject(field);
        if (raw is not { } config)
        {
            return null;
        }

        var loc = r.Loc(field);
        if (ContainsNul(config))
        {
            r.Errors.ValueError(loc, "must not contain NUL characters");
            return null;
        }

        if (HasDuplicateKeys(config))
        {
            r.Errors.ValueError(loc, "must not repeat a key within an object");
            return null;
        }

        var entries = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var property in config.EnumerateObject())
        {
            object[] keyLoc = [.. loc, property.Name];
            var value = Decode(property.Value);
            if (value is null)
            {
                entries[property.Name] = null;
            }
            else if (IsSecret(type, property.Name))
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    r.Errors.Add(keyLoc, "Input should be a valid string", "string_type");
                }
                else
                {
                    entries[property.Name] = value;
                }
            }
            else if (NestedSecretKey(type, value) is { } nested)
            {
                r.Errors.ValueError(keyLoc, $"secret values must be top-level keys of config so that they are stored sealed (found nested key '{nested}')");
            }
            else
            {
                entries[property.Name] = value;
            }
        }

        return entries;
    }

    /// <summary>Checks the keys every provider of this type needs; errors go to body.config.&lt;key&gt;.</summary>
    /// <remarks><paramref name="allowHttp"/>: ScaiKey:Federation:AllowHttpProviders (plain http for tests' loopback peers).
    /// <paramref name="secrets"/>: the provider's secret keys, for checks that need them (the SAML SP key against its certificate).</remarks>
    public static void Validate(string type, JsonObject config, ValidationErrors errors, bool allowHttp = false, JsonObject? secrets = null)
    {
        switch (type)
        {
            case "OIDC":
                Url(config, "issuer", errors, https: true, issuer: true, allowHttp);
                RequiredString(config, "client_id", errors);
                Federation.Oidc.OidcSettings.Validate(config, errors);
                break;
            case "SAML":
                Federation.Saml.SamlConfig.Validate(config, secrets, errors, allowHttp);
                break;
            case "LDAP":
                Url(config, "url", errors, https: false, issuer: false, allowHttp);
                RequiredString(config, "base_dn", errors);
                Federation.Ldap.LdapSettings.Validate(config, errors);
                break;
        }
    }

    /// <summary>The whole configuration (secrets included) must stay within 16 KiB of compact JSON.</summary>
    public static void CheckSize(JsonObject plain, JsonObject secrets, ValidationErrors errors)
    {
        var bytes = Encoding.UTF8.GetByteCount(plain.ToJsonString(ApiJson.Options)) + Encoding.UTF8.GetByteCount(secrets.ToJsonString(ApiJson.Options));
        if (bytes > MaxBytes)
        {
            errors.ValueError(["body", "config"], $"config must be at most {MaxBytes / 1024} KiB of JSON");
        }
    }

    public static string Serialize(JsonObject plain) => plain.ToJsonString(ApiJson.Options);

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    public static string? Seal(KeyRing keyRing, string providerId, JsonObject secrets) =>
        secrets.Count == 0 ? null : keyRing.Seal(Encoding.UTF8.GetBytes(secrets.ToJsonString(ApiJson.Options)), Context(providerId));

    public static JsonObject Open(KeyRing keyRing, string providerId, string? sealedSecrets) =>
        sealedSecrets is null ? [] : JsonNode.Parse(keyRing.Open(sealedSecrets, Context(providerId)))!.AsObject();

    /// <summary>
    /// A stored provider's settings and secrets. Keys kept in clear by an older, narrower secret rule (a secret
    /// name, a key its type now declares secret, or a value with such a key inside) are moved to the secrets: never shown, and sealed by the
    /// next change to the provider.
    /// </summary>
    public static (JsonObject Plain, JsonObject Secrets) Load(KeyRing keyRing, string providerId, string type, string configJson, string? sealedSecrets)
    {
        var plain = Parse(configJson);
        var secrets = Open(keyRing, providerId, sealedSecrets);
        foreach (var (key, value) in plain.ToList())
        {
            if (IsSecret(type, key) || NestedSecretKey(type, value) is not null)
            {
                plain.Remove(key);
                if (!secrets.ContainsKey(key))
                {
                    secrets[key] = value;
                }
            }
        }

        return (plain, secrets);
    }

    public static IReadOnlyList<string> Names(JsonObject secrets) => secrets.Select(p => p.Key).Order(StringComparer.Ordinal).ToList();

    // Binds the sealed value to its row, so the secrets of one provider cannot be copied onto another.
    private static string Context(string providerId) => "scaikey:identity-provider:" + providerId;

    private static string? RequiredString(JsonObject config, string key, ValidationErrors errors)
    {
        object[] loc = ["body", "config", key];
        if (!config.TryGetPropertyValue(key, out var node) || node is null)
        {
            errors.Missing(loc);
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            errors.Add(loc, "Input should be a valid string", "string_type");
            return null;
        }

        var text = node.GetValue<string>();
        if (text.Trim().Length == 0)
        {
            errors.Add(loc, "String should have at least 1 character", "string_too_short");
            return null;
        }

        return text;
    }

    private static void Url(JsonObject config, string key, ValidationErrors errors, bool https, bool issuer, bool allowHttp)
    {
        if (RequiredString(config, key, errors) is not { } text)
        {
            return;
        }

        object[] loc = ["body", "config", key];
        var valid = Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Host.Length > 0 && uri.UserInfo.Length == 0
            && (https ? uri.Scheme == Uri.UriSchemeHttps || (allowHttp && uri.Scheme == Uri.UriSchemeHttp) : uri.Scheme is "ldap" or "ldaps");
        if (!valid)
        {
            errors.ValueError(loc, https ? "must be an absolute https URL" : "must be an ldap:// or ldaps:// URL");
        }
        else if (issuer && (uri!.Query.Length > 0 || uri.Fragment.Length > 0))
        {
            errors.ValueError(loc, "an issuer must not have a query or fragment");
        }
    }

    private static string? NestedSecretKey(string? type, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (IsSecret(type, key))
                    {
                        return key;
                    }

                    if (NestedSecretKey(type, value) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonArray array:
                return array.Select(item => NestedSecretKey(type, item)).FirstOrDefault(n => n is not null);
            default:
                return null;
        }
    }

    /// <summary>
    /// A JSON value as a node holding decoded .NET strings (never the raw escaped text), so that reading or
    /// writing it later cannot fail. Throws <see cref="InvalidOperationException"/> on a lone surrogate escape.
    /// </summary>
    private static JsonNode? Decode(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    obj.Add(property.Name, Decode(property.Value));
                }

                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray();
                foreach (var item in element.EnumerateArray())
                {
                    array.Add(Decode(item));
                }

                return array;
            case JsonValueKind.String:
                return JsonValue.Create(element.GetString()!);
            case JsonValueKind.True:
            case JsonValueKind.False:
                return JsonValue.Create(element.GetBoolean());
            case JsonValueKind.Number:
                return JsonNode.Parse(element.GetRawText());
            default:
                return null;
        }
    }

    /// <summary>Whether a decoded key or string anywhere in the value holds a NUL (which PostgreSQL cannot store).</summary>
    private static bool ContainsNul(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Any(p => p.Name.Contains('\0', StringComparison.Ordinal) || ContainsNul(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(ContainsNul),
        JsonValueKind.String => element.GetString()!.Contains('\0', StringComparison.Ordinal),
        _ => false,
    };

    private static bool HasDuplicateKeys(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().GroupBy(p => p.Name, StringComparer.Ordinal).Any(g => g.Count() > 1)
            || element.EnumerateObject().Any(p => HasDuplicateKeys(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(HasDuplicateKeys),
        _ => false,
    };
}
