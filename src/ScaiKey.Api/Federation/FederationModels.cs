using System.Text.Json.Nodes;

namespace ScaiKey.Api.Federation;

/// <summary>
/// Who the upstream provider says signed in, already mapped from its protocol (OIDC ID token claims, SAML
/// attributes): the account's stable subject at the provider, and what it asserts about the person.
/// </summary>
internal sealed record UpstreamClaims(
    string Subject, string? Email, bool EmailVerified, string? GivenName = null, string? FamilyName = null, string? DisplayName = null);

internal enum FederatedAccountOutcome
{
    /// <summary>A user may be signed in: <see cref="FederatedAccountResult.UserId"/>.</summary>
    SignIn,

    /// <summary>A local user of the tenant has the asserted email; only their ScaiKey password may link them.</summary>
    NeedsPassword,

    /// <summary>Nobody is signed in: <see cref="FederatedAccountResult.Reason"/> (a <see cref="FederationRefusals"/> value).</summary>
    Refused,
}

/// <summary>What <see cref="FederatedAccounts"/> decided (and already wrote and audited).</summary>
internal sealed record FederatedAccountResult(FederatedAccountOutcome Outcome, string? UserId = null, string? Reason = null)
{
    /// <summary>SignIn: what happened (federation.signed_in, federation.linked or federation.provisioned).</summary>
    public string? Action { get; init; }

    /// <summary>SignIn: the user has a confirmed second factor, which the sign-in still asks for.</summary>
    public bool HasSecondFactor { get; init; }

    /// <summary>SignIn: false when the user exists but may not sign in yet (a provisioned user awaiting approval).</summary>
    public bool Active { get; init; }

    public static FederatedAccountResult Refuse(string reason) => new(FederatedAccountOutcome.Refused, Reason: reason);
}

/// <summary>Why a federated sign-in was refused, as the federation.refused audit event's reason names it.</summary>
internal static class FederationRefusals
{
    public const string ProviderDisabled = "provider_disabled";
    public const string ProviderNotFound = "provider_not_found";
    public const string NoEmail = "no_email";
    public const string InvalidEmail = "invalid_email";
    public const string UserNotActive = "user_not_active";
    public const string PendingApproval = "pending_approval";
    public const string UserLinkedElsewhere = "user_already_linked_to_another_account";
    public const string AccessDenied = "upstream_error";
    public const string BadState = "bad_state";
    public const string RequestExpired = "request_expired_or_used";
    public const string BrowserMismatch = "browser_mismatch";
    public const string TokenExchangeFailed = "token_exchange_failed";
    public const string InvalidToken = "invalid_id_token";
    public const string ProviderUnreachable = "provider_unreachable";
}

/// <summary>
/// The settings every sign-in provider type (OIDC, SAML) shares in its config: <c>trust_email</c> (an email the
/// provider says it verified may link to the local user who has it) and <c>domains</c> (email domains whose users
/// the login page sends straight to this provider).
/// </summary>
internal sealed record FederationProviderSettings(bool TrustEmail, IReadOnlyList<string> Domains)
{
    public static FederationProviderSettings Read(string configJson)
    {
        var config = JsonNode.Parse(configJson) as JsonObject;
        var trust = config?["trust_email"] is JsonValue t && t.TryGetValue<bool>(out var value) && value;
        var domains = config?["domains"] is JsonArray array
            ? array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var d) ? NormalizeDomain(d) : null).OfType<string>().ToList()
            : [];
        return new FederationProviderSettings(trust, domains);
    }

    /// <summary>
    /// Checks <c>trust_email</c> (a boolean) and <c>domains</c> (an array of email domains, each listed once) of a
    /// sign-in provider's config; errors go to body.config.&lt;key&gt;.
    /// </summary>
    public static void Validate(JsonObject config, Errors.ValidationErrors errors)
    {
        if (config["trust_email"] is { } trust && trust.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
        {
            errors.Add(["body", "config", "trust_email"], "Input should be a valid boolean", "bool_type");
        }

        if (config["domains"] is not { } domains)
        {
            return;
        }

        if (domains is not JsonArray list || list.Count > 100)
        {
            errors.Add(["body", "config", "domains"], "Input should be a valid list (at most 100 domains)", "list_type");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var text = list[i] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            var domain = text is { Length: > 0 and <= 253 } ? NormalizeDomain(text) : null;
            if (domain is null || Uri.CheckHostName(domain) != UriHostNameType.Dns || !domain.Contains('.', StringComparison.Ordinal))
            {
                errors.ValueError(["body", "config", "domains", i], "must be an email domain such as example.com");
            }
            else if (!seen.Add(domain))
            {
                errors.ValueError(["body", "config", "domains", i], "is listed twice");
            }
        }
    }

    /// <summary>A domain as <c>domains</c> holds it and as the login page compares it: lower-cased, IDNA ASCII.</summary>
    public static string? NormalizeDomain(string domain)
    {
        var normalized = Users.EmailAddresses.Normalize("x@" + domain.Trim());
        var at = normalized.LastIndexOf('@');
        return at < 0 || at == normalized.Length - 1 ? null : normalized[(at + 1)..];
    }
}

/// <summary>What a LINK_CONFIRM request holds (sealed): the pending link and where the sign-in goes after.</summary>
internal sealed record LinkConfirmData(string UserId, UpstreamClaims Claims, string? ReturnUrl, string BindingHash);
