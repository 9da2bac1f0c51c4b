using System.Globalization;
using System.Text.RegularExpressions;

namespace ScaiKey.Api.Users;

/// <summary>
/// Field formats from platform.md: emails like pydantic's EmailStr (email-validator), IANA time zones,
/// BCP 47 locales and E.164 phone numbers. Each returns null when valid, else the reason.
/// </summary>
internal static partial class FieldRules
{
    private static readonly HashSet<string> SpecialUseDomains = new(StringComparer.OrdinalIgnoreCase)
    {
        "arpa", "invalid", "local", "localhost", "onion", "test",
    };

    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    /// <summary>
    /// Checks an address and returns the form stored as <c>email</c>: Unicode NFC (as email-validator does first, so
    /// a decomposed ü is one letter), domain lower-cased and kept as typed (Unicode or xn--), local part kept.
    /// </summary>
    public static string? EmailError(string value, out string normalized)
    {
        normalized = value;
        value = EmailAddresses.Nfc(value);
        if (value.Length == 0)
        {
            return "An email address cannot be empty.";
        }

        if (value.Trim() != value || value.Any(char.IsWhiteSpace))
        {
            return "An email address cannot have spaces in it.";
        }

        var at = value.Split('@');
        if (at.Length != 2)
        {
            return "An email address must have exactly one @-sign.";
        }

        var (local, domain) = (at[0], at[1]);
        if (local.Length == 0)
        {
            return "There must be something before the @-sign.";
        }

        if (domain.Length == 0)
        {
            return "There must be something after the @-sign.";
        }

        if (local.Length > 64)
        {
            return $"The email address is too long before the @-sign ({local.Length - 64} character{(local.Length - 64 == 1 ? "" : "s")} too many).";
        }

        if (local.StartsWith('.') || local.EndsWith('.'))
        {
            return "An email address cannot start or end with a period.";
        }

        if (local.Contains("..", StringComparison.Ordinal))
        {
            return "An email address cannot have two periods in a row.";
        }

        var badLocal = local.Where(c => !IsAtext(c) && c != '.').Distinct().ToArray();
        if (badLocal.Length > 0)
        {
            return "The email address contains invalid characters before the @-sign: " + string.Join(", ", badLocal.Select(c => $"'{c}'")) + ".";
        }

        if (domain.EndsWith('.') || domain.StartsWith('.'))
        {
            return "An email address cannot have a period immediately after the @-sign or at its end.";
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(domain).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return "The part after the @-sign contains invalid characters.";
        }

        var labels = ascii.Split('.');
        if (labels.Length < 2)
        {
            return "The part after the @-sign is not valid. It should have a period.";
        }

        if (ascii.Length > 253 || labels.Any(l => l.Length is 0 or > 63 || l.StartsWith('-') || l.EndsWith('-') || !DomainLabel().IsMatch(l)))
        {
            return "The part after the @-sign is not valid.";
        }

        if (labels[^1].All(char.IsAsciiDigit))
        {
            return "The part after the @-sign is not valid. It is not within a valid top-level domain.";
        }

        if (SpecialUseDomains.Contains(labels[^1]) || SpecialUseDomains.Contains(ascii))
        {
            return "The part after the @-sign is a special-use or reserved name that cannot be used with email.";
        }

        normalized = local + "@" + domain.ToLowerInvariant();
        return null;
    }

    // RFC 5322 atext, plus any non-ASCII letter or digit (SMTPUTF8 addresses, as email-validator allows).
    private static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".Contains(c) || (c > 127 && char.IsLetterOrDigit(c));

    public static string? TimezoneError(string value)
    {
        if (!TimeZoneId().IsMatch(value) || !TimeZoneInfo.TryFindSystemTimeZoneById(value, out var zone)
            || (!zone.HasIanaId && value != "UTC"))
        {
            return "timezone must be an IANA time zone id such as UTC or Europe/Paris";
        }

        return null;
    }

    public static string? LocaleError(string value) =>
        LocaleTag().IsMatch(value) ? null : "locale must be a BCP 47 language tag such as en or pt-BR";

    public static string? PhoneError(string value) =>
        E164().IsMatch(value) ? null : "phone must be in E.164 format, such as +14155550123";

    public static string? UsernameError(string value) =>
        value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? "username must be non-empty and contain no spaces or control characters"
            : null;

    [GeneratedRegex("^[a-z0-9-]+$")]
    private static partial Regex DomainLabel();

    [GeneratedRegex(@"^(UTC|[A-Za-z]+(/[A-Za-z0-9_+\-]+){0,2})$")]
    private static partial Regex TimeZoneId();

    // language[-script][-region](-variant)*, the forms browsers and CLDR use.
    [GeneratedRegex(@"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$")]
    private static partial Regex LocaleTag();

    [GeneratedRegex(@"^\+[1-9][0-9]{1,14}$")]
    private static partial Regex E164();
}
