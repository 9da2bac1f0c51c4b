namespace ScaiKey.Api.Federation.Saml;

/// <summary>
/// Who a validated assertion names, as the shared account logic (<see cref="FederatedAccounts"/>) takes it: the
/// NameID is the subject; the email comes from the configured attribute, else an email-format NameID, else the
/// usual attribute names; first and last name likewise.
/// </summary>
internal static class SamlClaims
{
    public const string TransientFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

    private static readonly string[] EmailNames =
        ["email", "mail", "emailAddress", "urn:oid:0.9.2342.19200300.100.1.3", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"];

    private static readonly string[] FirstNameNames =
        ["firstName", "givenName", "given_name", "urn:oid:2.5.4.42", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"];

    private static readonly string[] LastNameNames =
        ["lastName", "sn", "surname", "family_name", "urn:oid:2.5.4.4", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"];

    /// <summary>The claims, or null with the refusal reason.</summary>
    /// <param name="trustEmail">
    /// SAML carries no "email verified" statement: the provider's trust_email is the admin's word that its emails
    /// are verified, so it is what email_verified says.
    /// </param>
    public static UpstreamClaims? Map(SamlAssertion assertion, SamlProvider provider, bool trustEmail, out string? refusal)
    {
        refusal = null;

        // A transient NameID changes at every sign-in: a link made with it would never be found again.
        if (assertion.NameIdFormat == TransientFormat)
        {
            refusal = "transient_nameid";
            return null;
        }

        var emailNotText = false;
        var email = provider.EmailAttribute is null && assertion.NameIdFormat == SamlXml.EmailFormat
            ? assertion.NameId
            : Attribute(assertion, provider.EmailAttribute is { } configured ? [configured] : EmailNames, out emailNotText);
        var firstName = Attribute(assertion, provider.FirstNameAttribute is { } f ? [f] : FirstNameNames, out var firstNotText);
        var lastName = Attribute(assertion, provider.LastNameAttribute is { } l ? [l] : LastNameNames, out var lastNotText);
        if (emailNotText || firstNotText || lastNotText)
        {
            refusal = "attribute_not_text";
            return null;
        }

        var display = string.Join(' ', new[] { firstName, lastName }.Where(n => !string.IsNullOrWhiteSpace(n)));
        return new UpstreamClaims(assertion.NameId, email, trustEmail, firstName, lastName, display.Length == 0 ? null : display);
    }

    // The first value of the first attribute present; notText when that value held more than text (a comment).
    private static string? Attribute(SamlAssertion assertion, IEnumerable<string> names, out bool notText)
    {
        notText = false;
        foreach (var name in names)
        {
            if (assertion.Attributes.TryGetValue(name, out var values) && values.Count > 0)
            {
                notText = values[0] is null;
                return values[0];
            }
        }

        return null;
    }
}
