using System.Text.Encodings.Web;
using System.Text.Json;
using OpenIddict.Abstractions;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.OpenIdConnect;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.Applications;

/// <summary>The grant types an application may enable, in the order responses list them.</summary>
internal static class ApplicationGrants
{
    public const string ClientCredentials = "client_credentials";
    public const string AuthorizationCode = "authorization_code";
    public const string RefreshToken = "refresh_token";
    public const string Password = "password";

    public static readonly string[] All = [ClientCredentials, AuthorizationCode, RefreshToken, Password];

    public static IReadOnlyList<string> Defaults(ApplicationType type) =>
        type == ApplicationType.Service ? [ClientCredentials] : [AuthorizationCode, RefreshToken];

    /// <summary>Without duplicates, in the canonical order of <see cref="All"/>.</summary>
    public static List<string> Normalize(IEnumerable<string> grants)
    {
        var set = grants.ToHashSet(StringComparer.Ordinal);
        return All.Where(set.Contains).ToList();
    }
}

/// <summary>
/// The rules an application's settings obey (on create and on the state a PATCH would produce), and how they become
/// the OpenIddict client that the token endpoint checks.
/// </summary>
internal static class ApplicationRules
{
    public const int MaxRedirectUris = 20;
    public const int MaxRedirectUriLength = 2000;

    public static readonly string[] TypeNames = Choices.Of<ApplicationType>();

    /// <summary>The scope of the self-service account API, which only first-party applications may request.</summary>
    public const string AccountScope = "account";

    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    public static bool IsConfidential(ApplicationType type) => type is ApplicationType.Service or ApplicationType.Web;

    public static string ClientTypeOf(ApplicationType type) => IsConfidential(type) ? ClientTypes.Confidential : ClientTypes.Public;

    public static string WireName(ApplicationType type) => ApiJson.WireValue(type);

    public static ApplicationType Parse(string wireName) =>
        Enum.GetValues<ApplicationType>().First(t => WireName(t) == wireName);

    /// <summary>The length of the column that stores the redirect URIs as a JSON list (applications.redirect_uris_json).</summary>
    public const int MaxRedirectUrisJsonLength = 40_000;

    // Stored lists are never embedded in HTML, so '&', '+' or non-ASCII characters need no \uXXXX escape, which
    // would make a URI up to six times longer in the column. Lists written with the default encoder read the same.
    private static readonly JsonSerializerOptions StorageJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static List<string> ReadList(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];

    public static string WriteList(IReadOnlyList<string> values) => JsonSerializer.Serialize(values, StorageJson);

    /// <summary>
    /// The whole list must fit its column: 20 URIs of 2000 characters are each within their limits, but not together.
    /// Checked on the list as it would be stored (after duplicates are removed).
    /// </summary>
    public static void CheckRedirectUrisLength(ValidationErrors errors, IReadOnlyList<string> uris)
    {
        var length = WriteList(uris).Length;
        if (length > MaxRedirectUrisJsonLength)
        {
            errors.ValueError(["body", "redirect_uris"],
                $"redirect URIs must total at most {MaxRedirectUrisJsonLength} characters stored as a JSON list (these take {length})");
        }
    }

    /// <summary>Exact duplicates removed, first occurrence kept; otherwise stored as given (redirects match exactly).</summary>
    public static List<string> DistinctUris(IEnumerable<string> uris) => uris.Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Checks redirect URIs from the body, each on its own index.</summary>
    public static void CheckRedirectUris(ValidationErrors errors, ApplicationType type, IReadOnlyList<string> uris)
    {
        // OpenIddict keeps redirect URIs in a set of Uri, which equates URIs differing only in the case of the scheme
        // or host; two such entries would silently become one, so they are refused rather than half-stored.
        var seen = new Dictionary<Uri, string>();
        for (var i = 0; i < uris.Count; i++)
        {
            var raw = uris[i];
            if (RedirectUriProblem(type, raw) is { } problem)
            {
                errors.ValueError(["body", "redirect_uris", i], problem);
            }
            else if (seen.TryGetValue(new Uri(raw, UriKind.Absolute), out var earlier) && earlier != raw)
            {
                errors.ValueError(["body", "redirect_uris", i], $"redirect URI is equivalent to '{earlier}' (differs only in letter case); register one spelling");
            }
            else
            {
                seen.TryAdd(new Uri(raw, UriKind.Absolute), raw);
            }
        }
    }

    private static string? RedirectUriProblem(ApplicationType type, string raw)
    {
        if (raw.Length == 0 || raw.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return "redirect URI must be a non-empty absolute URI without spaces";
        }

        var colon = raw.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiLetter(raw[0]) || !raw[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')
            || !Uri.IsWellFormedUriString(raw, UriKind.Absolute) || !Uri.TryCreate(raw, UriKind.Absolute, out var uri))
        {
            return "redirect URI must be an absolute URI";
        }

        if (raw.Contains('#', StringComparison.Ordinal))
        {
            return "redirect URI must not contain a fragment";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "redirect URI must not contain user information";
        }

        switch (uri.Scheme)
        {
            case "https":
                return uri.Host.Length == 0 ? "redirect URI must name a host" : null;
            case "http":
                return LoopbackHosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase)
                    ? null
                    : "http redirect URIs are allowed only for localhost, 127.0.0.1 and [::1]; use https";
            default:
                if (type != ApplicationType.Native)
                {
                    return "redirect URI must use https (http only for localhost, 127.0.0.1 and [::1])";
                }

                return uri.Scheme.Contains('.', StringComparison.Ordinal)
                    ? null
                    : "a NATIVE application's private-use scheme must contain a dot (reverse domain name, e.g. com.example.app:/callback)";
        }
    }

    /// <summary>Rules across fields, checked against the settings the application would have after the write.</summary>
    public static void CheckCombination(ValidationErrors errors, ApplicationType type, IReadOnlyList<string> redirectUris, IReadOnlyList<string> grants)
    {
        object[] grantsLoc = ["body", "grant_types"];
        object[] urisLoc = ["body", "redirect_uris"];
        if (grants.Count == 0)
        {
            errors.ValueError(grantsLoc, "at least one grant type is required");
        }
        else if (type == ApplicationType.Service && grants.Any(g => g != ApplicationGrants.ClientCredentials))
        {
            errors.ValueError(grantsLoc, "a SERVICE application may only use client_credentials");
        }
        else if (!IsConfidential(type) && grants.Contains(ApplicationGrants.ClientCredentials))
        {
            errors.ValueError(grantsLoc, $"a {WireName(type)} application is a public client (no secret) and cannot use client_credentials");
        }

        if (grants.Contains(ApplicationGrants.RefreshToken)
            && !grants.Contains(ApplicationGrants.AuthorizationCode) && !grants.Contains(ApplicationGrants.Password))
        {
            errors.ValueError(grantsLoc, "refresh_token needs authorization_code or password");
        }

        if (grants.Contains(ApplicationGrants.AuthorizationCode) && redirectUris.Count == 0)
        {
            errors.ValueError(urisLoc, "authorization_code needs at least one redirect URI");
        }
        else if (!grants.Contains(ApplicationGrants.AuthorizationCode) && redirectUris.Count > 0)
        {
            errors.ValueError(urisLoc, "redirect URIs are used only with authorization_code; remove them or enable authorization_code");
        }
    }

    /// <summary>Sets what the token and authorization endpoints enforce; the client id, type and secret are left alone.</summary>
    public static void Apply(
        OpenIddictApplicationDescriptor descriptor, string name, ApplicationType type, IReadOnlyList<string> redirectUris, IReadOnlyList<string> grants,
        bool firstParty)
    {
        descriptor.DisplayName = name;
        descriptor.ApplicationType = type == ApplicationType.Native ? ApplicationTypes.Native : ApplicationTypes.Web;
        descriptor.Permissions.Clear();
        descriptor.Requirements.Clear();
        descriptor.RedirectUris.Clear();
        descriptor.PostLogoutRedirectUris.Clear();
        descriptor.Permissions.Add(Permissions.Endpoints.Token);

        // Applications that sign users in may ask for their profile; a service has no user to describe.
        if (grants.Contains(ApplicationGrants.AuthorizationCode) || grants.Contains(ApplicationGrants.Password))
        {
            descriptor.Permissions.Add(Permissions.Scopes.Email);
            descriptor.Permissions.Add(Permissions.Scopes.Profile);
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + OpenIdConnect.OAuthSetup.GroupsScope);

            // The self-service account API trusts only the tenant's own applications; for any other client OpenIddict
            // answers invalid_scope. Rebuilt with every write, so clearing first_party takes the permission away.
            if (firstParty)
            {
                descriptor.Permissions.Add(Permissions.Prefixes.Scope + AccountScope);
            }

            // A client that holds user tokens may end them (RFC 7009) and ask whether they still stand (RFC 7662).
            descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
            descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        }

        foreach (var grant in grants)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.GrantType + grant);
        }

        // The password grant of a user with a second factor ends with the mfa-otp grant (OpenIdConnect/MfaGrant.cs).
        if (grants.Contains(ApplicationGrants.Password))
        {
            descriptor.Permissions.Add(Permissions.Prefixes.GrantType + OpenIdConnect.MfaGrant.GrantType);
        }

        if (grants.Contains(ApplicationGrants.AuthorizationCode))
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Authorization);
            descriptor.Permissions.Add(Permissions.Endpoints.EndSession);
            descriptor.Permissions.Add(Permissions.ResponseTypes.Code);
            descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        }

        foreach (var uri in redirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));

            // Signing out may return to any of the application's own redirect URIs, and nowhere else.
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }
    }
}
