using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ScaiKey.Api.Errors;
using ScaiKey.Api.IdentityProviders;
using ScaiKey.Api.Security;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Ldap;

/// <summary>Which directory attribute holds each user or group field (config key <c>attributes</c>).</summary>
/// <remarks>
/// <c>id</c> is the entry's stable identifier, the federated identity's subject: entryUUID (RFC 4530) by default,
/// <c>objectGUID</c> for Active Directory (its 16 bytes kept as a GUID's text). The defaults are OpenLDAP's inetOrgPerson/groupOfNames names. Active Directory: username <c>sAMAccountName</c>
/// (or userPrincipalName), email <c>mail</c>, first_name <c>givenName</c>, last_name <c>sn</c>, member
/// <c>member</c>; its stable id is <c>objectGUID</c> and its change stamps <c>whenChanged</c>/<c>uSNChanged</c>
/// (AD also answers <c>modifyTimestamp</c>, the constructed form of whenChanged, which is what the sync asks for).
/// </remarks>
internal sealed record LdapAttributes(string Id, string Username, string Email, string FirstName, string LastName, string Member)
{
    public static readonly IReadOnlyDictionary<string, string> Keys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["id"] = "entryUUID",
        ["username"] = "uid",
        ["email"] = "mail",
        ["first_name"] = "givenName",
        ["last_name"] = "sn",
        ["member"] = "member",
    };
}

/// <summary>
/// An LDAP provider's settings as its config holds them (keys url, start_tls, base_dn, bind_dn, bind_password,
/// user_filter, group_filter, attributes, sync_interval_minutes).
/// </summary>
internal sealed partial record LdapSettings(
    Uri Url, bool StartTls, string BaseDn, string? BindDn, string? BindPassword, string UserFilter, string GroupFilter,
    LdapAttributes Attributes, int SyncIntervalMinutes)
{
    public const string DefaultUserFilter = "(objectClass=inetOrgPerson)";
    public const string DefaultGroupFilter = "(objectClass=groupOfNames)";

    // One week: a longer interval is a sync nobody waits for; 0 (or no key) means no periodic sync.
    public const int MaxSyncIntervalMinutes = 7 * 24 * 60;

    public bool Ldaps => Url.Scheme == "ldaps";

    /// <summary>The settings of a stored provider (its secrets opened from the key ring).</summary>
    public static LdapSettings From(KeyRing keyRing, IdentityProvider provider)
    {
        var (plain, secrets) = IdentityProviderConfig.Load(keyRing, provider.Id, provider.Type, provider.ConfigJson, provider.SealedSecrets);
        var attributes = plain["attributes"] as JsonObject;
        string Attribute(string key) => attributes?[key] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s : LdapAttributes.Keys[key];
        return new LdapSettings(
            new Uri(String(plain, "url")!),
            plain["start_tls"] is JsonValue tls && tls.TryGetValue(out bool startTls) && startTls,
            String(plain, "base_dn")!,
            String(plain, "bind_dn"),
            String(secrets, "bind_password"),
            String(plain, "user_filter") ?? DefaultUserFilter,
            String(plain, "group_filter") ?? DefaultGroupFilter,
            new LdapAttributes(Attribute("id"), Attribute("username"), Attribute("email"), Attribute("first_name"), Attribute("last_name"), Attribute("member")),
            plain["sync_interval_minutes"] is JsonValue m && m.TryGetValue(out int minutes) ? minutes : 0);
    }

    private static string? String(JsonObject config, string key) =>
        config[key] is JsonValue v && v.TryGetValue(out string? s) && s.Trim().Length > 0 ? s : null;

    /// <summary>The LDAP case of IdentityProviderConfig.Validate (url and base_dn are checked there); errors at body.config.&lt;key&gt;.</summary>
    public static void Validate(JsonObject config, ValidationErrors errors)
    {
        if (config["start_tls"] is { } startTls)
        {
            if (startTls.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                errors.Add(["body", "config", "start_tls"], "Input should be a valid boolean", "bool_type");
            }
            else if (startTls.GetValue<bool>() && config["url"] is JsonValue url && url.TryGetValue(out string? u)
                && u.StartsWith("ldaps:", StringComparison.OrdinalIgnoreCase))
            {
                errors.ValueError(["body", "config", "start_tls"], "start_tls is for ldap:// URLs; an ldaps:// connection is encrypted already");
            }
        }

        OptionalString(config, "bind_dn", errors, null);
        OptionalString(config, "user_filter", errors, IsFilter);
        OptionalString(config, "group_filter", errors, IsFilter);
        if (config["attributes"] is { } attributes)
        {
            if (attributes is not JsonObject map)
            {
                errors.Add(["body", "config", "attributes"], "Input should be a valid dictionary", "dict_type");
            }
            else
            {
                foreach (var (key, value) in map)
                {
                    object[] loc = ["body", "config", "attributes", key];
                    if (!LdapAttributes.Keys.ContainsKey(key))
                    {
                        errors.ValueError(loc, $"unknown attribute mapping; expected one of {string.Join(", ", LdapAttributes.Keys.Keys)}");
                    }
                    else if (value is not JsonValue v || !v.TryGetValue(out string? name) || !AttributeName().IsMatch(name))
                    {
                        errors.ValueError(loc, "must be an LDAP attribute name (letters, digits and '-', starting with a letter) or an OID");
                    }
                }
            }
        }

        if (config["sync_interval_minutes"] is { } interval)
        {
            if (interval.GetValueKind() != JsonValueKind.Number || !interval.AsValue().TryGetValue(out int minutes))
            {
                errors.Add(["body", "config", "sync_interval_minutes"], "Input should be a valid integer", "int_type");
            }
            else if (minutes is < 0 or > MaxSyncIntervalMinutes)
            {
                errors.ValueError(["body", "config", "sync_interval_minutes"], $"must be between 0 (no periodic sync) and {MaxSyncIntervalMinutes}");
            }
        }
    }

    private static void OptionalString(JsonObject config, string key, ValidationErrors errors, Func<string, bool>? valid)
    {
        if (config[key] is not { } node)
        {
            return;
        }

        object[] loc = ["body", "config", key];
        if (node.GetValueKind() != JsonValueKind.String)
        {
            errors.Add(loc, "Input should be a valid string", "string_type");
        }
        else if (valid is not null && !valid(node.GetValue<string>()))
        {
            errors.ValueError(loc, "must be an LDAP search filter in parentheses, e.g. (objectClass=inetOrgPerson)");
        }
    }

    /// <summary>
    /// A filter the sync can wrap in (&amp;...): parenthesized and balanced (RFC 4515 escapes parentheses inside
    /// values as \28 and \29, so a raw one is structure). The directory checks the rest of the syntax itself.
    /// </summary>
    private static bool IsFilter(string filter)
    {
        filter = filter.Trim();
        if (filter.Length < 3 || filter[0] != '(' || filter[^1] != ')')
        {
            return false;
        }

        var depth = 0;
        for (var i = 0; i < filter.Length; i++)
        {
            depth += filter[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (depth < 0 || (depth == 0 && i < filter.Length - 1))
            {
                return false;
            }
        }

        return depth == 0;
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9-]{0,63}|[0-9]+(\\.[0-9]+)+)$")]
    private static partial Regex AttributeName();
}
