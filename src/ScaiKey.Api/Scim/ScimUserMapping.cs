using System.Text.Json.Nodes;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Api.Users;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Scim;

/// <summary>A SCIM User body read into what a ScaiKey user stores (PUT's rules; PATCH applies to the rendering, then this).</summary>
internal sealed record ScimUserFields(
    string UserName,
    string Email,
    string? ExternalId,
    string? GivenName,
    string? FamilyName,
    string? DisplayName,
    string? Phone,
    string? Locale,
    string? Timezone,
    bool? Active,
    string? Password,
    JsonObject Custom);

/// <summary>A group a user is a direct member of, for the read-only groups attribute.</summary>
internal sealed record ScimGroupRef(string UserId, string GroupId, string Name);

/// <summary>
/// SCIM User (RFC 7643 §4.1, the enterprise extension of §4.3) onto ScaiKey's user and back. ScaiKey models userName
/// (username), one email, the name parts, displayName, one E.164 phone, locale, timezone and active (status);
/// everything else a client sends is kept in custom_attributes under its schema URN and rendered back, never dropped.
/// </summary>
internal static class ScimUserMapping
{
    private const int NameLength = 200;

    // Core attributes ScaiKey stores in columns (or computes); any other core attribute goes to custom_attributes.
    private static readonly HashSet<string> Modelled = new(StringComparer.OrdinalIgnoreCase)
    {
        "schemas", "id", "externalId", "userName", "name", "displayName", "emails", "phoneNumbers", "locale", "timezone",
        "active", "password", "groups", "meta",
    };

    private static readonly HashSet<string> ModelledName = new(StringComparer.OrdinalIgnoreCase) { "givenName", "familyName", "formatted" };

    public static JsonObject Render(User user, IEnumerable<ScimGroupRef> groups, string baseUrl)
    {
        var custom = UserInput.ParseAttributes(user.CustomAttributesJson) ?? [];
        var core = custom[ScimSchemas.User] as JsonObject;
        var schemas = new JsonArray(ScimSchemas.User);
        foreach (var (key, value) in custom)
        {
            if (ScimJson.IsUrn(key) && key != ScimSchemas.User && value is JsonObject)
            {
                schemas.Add(key);
            }
        }

        var resource = new JsonObject { ["schemas"] = schemas, ["id"] = user.Id };
        if (user.ExternalId is not null)
        {
            resource["externalId"] = user.ExternalId;
        }

        resource["userName"] = user.Username ?? user.Email;
        var name = core?["name"] is JsonObject extraName ? (JsonObject)extraName.DeepClone() : [];
        if (user.FirstName is { } given)
        {
            name["givenName"] = given;
        }

        if (user.LastName is not null)
        {
            name["familyName"] = user.LastName;
        }

        var formatted = string.Join(' ', new[] { user.FirstName, user.LastName }.Where(s => !string.IsNullOrEmpty(s)));
        if (formatted.Length > 0)
        {
            name["formatted"] = formatted;
        }

        if (name.Count > 0)
        {
            resource["name"] = name;
        }

        if (user.DisplayName is not null)
        {
            resource["displayName"] = user.DisplayName;
        }

        var emails = new JsonArray(new JsonObject { ["value"] = user.Email, ["type"] = "work", ["primary"] = true });
        if (core?["emails"] is JsonArray extraEmails)
        {
            foreach (var email in extraEmails)
            {
                emails.Add(email?.DeepClone());
            }
        }

        resource["emails"] = emails;
        var phones = new JsonArray();
        if (user.Phone is not null)
        {
            phones.Add(new JsonObject { ["value"] = user.Phone, ["type"] = "work" });
        }

        if (core?["phoneNumbers"] is JsonArray extraPhones)
        {
            foreach (var phone in extraPhones)
            {
                phones.Add(phone?.DeepClone());
            }
        }

        if (phones.Count > 0)
        {
            resource["phoneNumbers"] = phones;
        }

        resource["locale"] = user.Locale;
        resource["timezone"] = user.Timezone;
        resource["active"] = user.Status != UserStatus.Disabled;
        if (core is not null)
        {
            foreach (var (key, value) in core)
            {
                if (!Modelled.Contains(key))
                {
                    resource[key] = value?.DeepClone();
                }
            }
        }

        var groupArray = new JsonArray();
        foreach (var group in groups)
        {
            groupArray.Add(new JsonObject
            {
                ["value"] = group.GroupId,
                ["display"] = group.Name,
                ["type"] = "direct",
                ["$ref"] = $"{baseUrl}/Groups/{group.GroupId}",
            });
        }

        if (groupArray.Count > 0)
        {
            resource["groups"] = groupArray;
        }

        foreach (var (key, value) in custom)
        {
            if (ScimJson.IsUrn(key) && key != ScimSchemas.User && value is JsonObject extension)
            {
                resource[key] = extension.DeepClone();
            }
        }

        resource["meta"] = new JsonObject
        {
            ["resourceType"] = "User",
            ["created"] = ScimResults.Timestamp(user.CreatedAt),
            ["lastModified"] = ScimResults.Timestamp(user.UpdatedAt ?? user.CreatedAt),
            ["location"] = $"{baseUrl}/Users/{user.Id}",
            ["version"] = ScimResults.WeakETag(Version(user)),
        };
        return resource;
    }

    public static string Version(User user) => user.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads a whole User resource (POST, PUT, or the result of a PATCH) by ScaiKey's field rules.</summary>
    public static ScimUserFields? Read(JsonObject body, out ScimError? error)
    {
        error = null;
        if (!ScimJson.TryString(ScimJson.Get(body, "userName"), out var userName) || string.IsNullOrWhiteSpace(userName))
        {
            error = ScimError.InvalidValue("userName is required and must be a non-empty string.");
            return null;
        }

        userName = userName.Trim();
        if (userName.Length > NameLength)
        {
            error = ScimError.InvalidValue($"userName is longer than {NameLength} characters.");
            return null;
        }

        if (FieldRules.UsernameError(userName) is { } usernameError)
        {
            error = ScimError.InvalidValue("userName: " + usernameError);
            return null;
        }

        if (!ScimJson.TryString(ScimJson.Get(body, "externalId"), out var externalId) || externalId?.Length > NameLength)
        {
            error = ScimError.InvalidValue($"externalId must be a string of at most {NameLength} characters.");
            return null;
        }

        var custom = new JsonObject();
        var core = new JsonObject();

        // emails: the primary (else the work, else the first) is the user's email; the others are kept.
        string? email = null;
        if (ScimJson.Get(body, "emails") is { } emailsNode)
        {
            if (emailsNode is not JsonArray emails || emails.Any(e => e is not JsonObject))
            {
                error = ScimError.InvalidValue("emails must be an array of objects with a value.");
                return null;
            }

            var chosen = emails.OfType<JsonObject>().OrderBy(e => Rank(e)).FirstOrDefault();
            if (chosen is not null)
            {
                if (!ScimJson.TryString(ScimJson.Get(chosen, "value"), out email) || string.IsNullOrWhiteSpace(email))
                {
                    error = ScimError.InvalidValue("emails[].value must be a non-empty string.");
                    return null;
                }

                var rest = new JsonArray(emails.OfType<JsonObject>().Where(e => !ReferenceEquals(e, chosen)).Select(e => (JsonNode)e.DeepClone()).ToArray());
                if (rest.Count > 0)
                {
                    core["emails"] = rest;
                }
            }
        }

        // ScaiKey users need an email; a directory that sends none usually names users by address (an Entra UPN).
        email ??= userName.Contains('@') ? userName : null;
        if (email is null)
        {
            error = ScimError.InvalidValue("A ScaiKey user needs an email address: send emails, or a userName that is an email address.");
            return null;
        }

        var normalizedEmail = email.Trim();
        if ((email.Length > 320 ? "It is longer than 320 characters." : FieldRules.EmailError(email.Trim(), out normalizedEmail)) is { } emailError)
        {
            error = ScimError.InvalidValue("emails: value is not a valid email address: " + emailError);
            return null;
        }

        string? givenName = null, familyName = null;
        if (ScimJson.Get(body, "name") is { } nameNode)
        {
            if (nameNode is not JsonObject name
                || !ScimJson.TryString(ScimJson.Get(name, "givenName"), out givenName)
                || !ScimJson.TryString(ScimJson.Get(name, "familyName"), out familyName)
                || givenName?.Length > NameLength || familyName?.Length > NameLength)
            {
                error = ScimError.InvalidValue($"name must be an object whose givenName and familyName are strings of at most {NameLength} characters.");
                return null;
            }

            var extra = new JsonObject();
            foreach (var (key, value) in name)
            {
                if (!ModelledName.Contains(key) && value is not null)
                {
                    extra[key] = value.DeepClone();
                }
            }

            if (extra.Count > 0)
            {
                core["name"] = extra;
            }
        }

        if (!ScimJson.TryString(ScimJson.Get(body, "displayName"), out var displayName) || displayName?.Length > NameLength)
        {
            error = ScimError.InvalidValue($"displayName must be a string of at most {NameLength} characters.");
            return null;
        }

        // The first E.164 number is the user's phone. Numbers in other formats are kept as sent rather than refused:
        // directories hold "+1 (555) 010-0100" and the like, and provisioning must not fail on them.
        string? phone = null;
        if (ScimJson.Get(body, "phoneNumbers") is { } phonesNode)
        {
            if (phonesNode is not JsonArray phones || phones.Any(p => p is not JsonObject))
            {
                error = ScimError.InvalidValue("phoneNumbers must be an array of objects with a value.");
                return null;
            }

            var ordered = phones.OfType<JsonObject>().OrderBy(Rank).ToList();
            var first = ordered.FirstOrDefault();
            if (first is not null && ScimJson.TryString(ScimJson.Get(first, "value"), out var number)
                && number is not null && FieldRules.PhoneError(number) is null)
            {
                phone = number;
                ordered.RemoveAt(0);
            }

            if (ordered.Count > 0)
            {
                core["phoneNumbers"] = new JsonArray(ordered.Select(p => (JsonNode)p.DeepClone()).ToArray());
            }
        }

        if (!ScimJson.TryString(ScimJson.Get(body, "locale"), out var locale) || (locale is not null && FieldRules.LocaleError(locale) is not null))
        {
            error = ScimError.InvalidValue("locale must be a BCP 47 language tag such as en or en-US.");
            return null;
        }

        if (!ScimJson.TryString(ScimJson.Get(body, "timezone"), out var timezone) || (timezone is not null && FieldRules.TimezoneError(timezone) is not null))
        {
            error = ScimError.InvalidValue("timezone must be an IANA time zone id such as America/Los_Angeles.");
            return null;
        }

        if (!ScimJson.TryBool(ScimJson.Get(body, "active"), out var active))
        {
            error = ScimError.InvalidValue("active must be a boolean (true or false).");
            return null;
        }

        if (!ScimJson.TryString(ScimJson.Get(body, "password"), out var password) || password?.Length > UserInput.MaxPasswordLength)
        {
            error = ScimError.InvalidValue("password must be a string.");
            return null;
        }

        foreach (var (key, value) in body)
        {
            if (value is null || Modelled.Contains(key))
            {
                continue;
            }

            if (ScimJson.IsUrn(key))
            {
                if (string.Equals(key, ScimSchemas.User, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (value is not JsonObject)
                {
                    error = ScimError.InvalidValue($"The extension {key} must be an object.");
                    return null;
                }

                custom[string.Equals(key, ScimSchemas.EnterpriseUser, StringComparison.OrdinalIgnoreCase) ? ScimSchemas.EnterpriseUser : key] = value.DeepClone();
            }
            else
            {
                core[key] = value.DeepClone();
            }
        }

        if (core.Count > 0)
        {
            custom[ScimSchemas.User] = core;
        }

        return new ScimUserFields(userName, normalizedEmail, externalId, Blank(givenName), Blank(familyName), Blank(displayName), phone,
            locale, timezone, active, password, custom);
    }

    /// <summary>The user's custom_attributes with the SCIM (URN) keys replaced and the admin API's own keys kept.</summary>
    public static string? MergeCustom(string? existingJson, JsonObject scim)
    {
        var merged = new JsonObject();
        foreach (var (key, value) in UserInput.ParseAttributes(existingJson) ?? [])
        {
            if (!ScimJson.IsUrn(key))
            {
                merged[key] = value?.DeepClone();
            }
        }

        foreach (var (key, value) in scim)
        {
            merged[key] = value?.DeepClone();
        }

        return merged.Count == 0 ? null : UserInput.SerializeAttributes(merged);
    }

    private static int Rank(JsonObject item) =>
        ScimJson.TryBool(ScimJson.Get(item, "primary"), out var primary) && primary == true ? 0
        : ScimJson.TryString(ScimJson.Get(item, "type"), out var type) && string.Equals(type, "work", StringComparison.OrdinalIgnoreCase) ? 1
        : 2;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
