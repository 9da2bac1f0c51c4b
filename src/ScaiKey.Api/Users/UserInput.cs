using System.Text.Json;
using System.Text.Json.Nodes;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>Binds the user request bodies field by field, so every failing field is reported (FastAPI style).</summary>
internal static class UserInput
{
    public const int MaxCustomAttributesBytes = 16 * 1024;
    public const int MaxPasswordLength = 1024;
    private const int NameLength = 200;

    public static UserCreate ReadCreate(BodyReader r)
    {
        var email = Email(r, r.RequiredString("email", 320), "email") ?? string.Empty;
        var username = r.String("username", NameLength);
        Check(r, "username", username, FieldRules.UsernameError);
        var firstName = r.String("first_name", NameLength);
        var lastName = r.String("last_name", NameLength);
        var displayName = r.String("display_name", NameLength);
        var phone = r.String("phone", 32);
        Check(r, "phone", phone, FieldRules.PhoneError);
        var locale = r.String("locale", 35, "en", nullable: false) ?? "en";
        Check(r, "locale", locale, FieldRules.LocaleError);
        var timezone = r.String("timezone", 64, "UTC", nullable: false) ?? "UTC";
        Check(r, "timezone", timezone, FieldRules.TimezoneError);
        var password = r.String("password", MaxPasswordLength);
        var ouId = r.String("ou_id", 64);
        var groupIds = r.StringList("group_ids", 100, 64) ?? [];
        var customAttributes = r.OptionalObject("custom_attributes", MaxCustomAttributesBytes).Value;
        var requireChange = r.Bool("require_password_change", false);
        var sendWelcome = r.Bool("send_welcome_email", true);
        return new UserCreate(email, username, firstName, lastName, displayName, phone, locale, timezone, password, ouId,
            groupIds.Distinct(StringComparer.Ordinal).ToList(), customAttributes, requireChange, sendWelcome);
    }

    /// <summary>Fields of a PATCH, each with whether it was sent.</summary>
    internal sealed record UserPatch(
        Optional<string> Email,
        Optional<string> Username,
        Optional<string> FirstName,
        Optional<string> LastName,
        Optional<string> DisplayName,
        Optional<string> Phone,
        Optional<string> Locale,
        Optional<string> Timezone,
        Optional<string> OuId,
        Optional<JsonObject> CustomAttributes);

    public static UserPatch ReadUpdate(BodyReader r)
    {
        var email = r.OptionalString("email", 320);
        if (email is { IsSet: true, Value: not null })
        {
            email = new(true, Email(r, email.Value, "email"));
        }

        var username = r.OptionalString("username", NameLength);
        Check(r, "username", username.Value, FieldRules.UsernameError);
        var firstName = r.OptionalString("first_name", NameLength);
        var lastName = r.OptionalString("last_name", NameLength);
        var displayName = r.OptionalString("display_name", NameLength);
        var phone = r.OptionalString("phone", 32);
        Check(r, "phone", phone.Value, FieldRules.PhoneError);
        var locale = r.OptionalString("locale", 35);
        Check(r, "locale", locale.Value, FieldRules.LocaleError);
        var timezone = r.OptionalString("timezone", 64);
        Check(r, "timezone", timezone.Value, FieldRules.TimezoneError);
        var ouId = r.OptionalString("ou_id", 64);
        var customAttributes = r.OptionalObject("custom_attributes", MaxCustomAttributesBytes);
        return new UserPatch(email, username, firstName, lastName, displayName, phone, locale, timezone, ouId, customAttributes);
    }

    private static readonly string[] StatusValues = Choices.Of<UserStatus>();

    public static UserStatusUpdate ReadStatus(BodyReader r)
    {
        UserStatus status = default;
        var statusField = r.OptionalChoice("status", StatusValues, nullable: false);
        if (!statusField.IsSet && !r.Errors.Items.Any(e => e.Loc.Count == 2 && Equals(e.Loc[1], "status")))
        {
            r.Errors.Missing(r.Loc("status"));
        }
        else if (statusField.Value is { } value)
        {
            status = Enum.GetValues<UserStatus>()[Array.IndexOf(StatusValues, value)];
            if (status is UserStatus.PendingApproval or UserStatus.PendingEmailVerification)
            {
                r.Errors.ValueError(r.Loc("status"), "status can only be set to ACTIVE, DISABLED or LOCKED");
            }
        }

        var reason = r.String("reason", 1000);
        var terminate = r.Bool("terminate_sessions", false);
        return new UserStatusUpdate(status, reason, terminate);
    }

    public static readonly string[] ResetMethods = ["EMAIL", "MANUAL", "TEMPORARY"];

    public static UserPasswordReset ReadPasswordReset(BodyReader r)
    {
        var method = r.OptionalChoice("method", ResetMethods, nullable: false, errorType: "literal_error").Value ?? "EMAIL";
        var newPassword = r.String("new_password", MaxPasswordLength);
        var redirectUri = r.String("redirect_uri", 2048);
        if (method == "MANUAL" && newPassword is null && !HasError(r, "new_password"))
        {
            r.Errors.ValueError(r.Loc("new_password"), "new_password is required when method is MANUAL");
        }
        else if (method != "MANUAL" && newPassword is not null)
        {
            r.Errors.ValueError(r.Loc("new_password"), "new_password is only used when method is MANUAL");
        }

        if (method != "EMAIL" && redirectUri is not null)
        {
            r.Errors.ValueError(r.Loc("redirect_uri"), "redirect_uri is only used when method is EMAIL");
        }

        return new UserPasswordReset(method, newPassword, redirectUri);
    }

    public static AdminPasswordReset ReadAdminPasswordReset(BodyReader r)
    {
        var newPassword = r.RequiredString("new_password", MaxPasswordLength);
        var requireChange = r.Bool("require_password_change", true);
        return new AdminPasswordReset(newPassword ?? string.Empty, requireChange);
    }

    private static bool HasError(BodyReader r, string field) =>
        r.Errors.Items.Any(e => e.Loc.Count >= 2 && Equals(e.Loc[^1], field));

    private static string? Email(BodyReader r, string? value, string field)
    {
        if (value is null)
        {
            return null;
        }

        var error = FieldRules.EmailError(value, out var normalized);
        if (error is not null)
        {
            r.Errors.Add(r.Loc(field), "value is not a valid email address: " + error, "value_error");
            return null;
        }

        return normalized;
    }

    private static void Check(BodyReader r, string field, string? value, Func<string, string?> rule)
    {
        if (value is not null && rule(value) is { } error)
        {
            r.Errors.ValueError(r.Loc(field), error);
        }
    }

    public static string? SerializeAttributes(JsonObject? attributes) =>
        attributes?.ToJsonString(ApiJson.Options);

    public static JsonObject? ParseAttributes(string? json) =>
        json is null ? null : JsonNode.Parse(json) as JsonObject;

    // NFC like the search term (UserReads.SearchTerm), so composed and decomposed letters find each other.
    public static string SearchText(User user) =>
        EmailAddresses.Nfc(string.Join('\n', new[] { user.Email, user.Username, user.FirstName, user.LastName, user.DisplayName }
            .Where(s => !string.IsNullOrEmpty(s)))).ToLowerInvariant();

    /// <summary>The users row a create writes, for the API and the bulk import alike.</summary>
    public static User NewUser(TenantContext tenant, UserCreate input, string? passwordHash, DateTime now)
    {
        var user = new User
        {
            Id = Ids.New(),
            TenantId = tenant.Id,
            Email = input.Email,
            EmailNormalized = EmailAddresses.Normalize(input.Email),
            Username = input.Username,
            UsernameNormalized = input.Username?.ToLowerInvariant(),
            FirstName = input.FirstName,
            LastName = input.LastName,
            DisplayName = input.DisplayName,
            Phone = input.Phone,
            Locale = input.Locale,
            Timezone = input.Timezone,
            OuId = input.OuId,
            IdentitySource = IdentitySource.Local,
            Status = tenant.Settings.RequireApproval ? UserStatus.PendingApproval
                : passwordHash is not null ? UserStatus.Active
                : UserStatus.PendingEmailVerification,
            CustomAttributesJson = UserInput.SerializeAttributes(input.CustomAttributes),
            PasswordHash = passwordHash,
            PasswordChangedAt = passwordHash is null ? null : now,
            RequirePasswordChange = input.RequirePasswordChange,
            SearchText = string.Empty,
            CreatedAt = now,
            Version = 1,
        };
        user.SearchText = UserInput.SearchText(user);
        return user;
    }
}
