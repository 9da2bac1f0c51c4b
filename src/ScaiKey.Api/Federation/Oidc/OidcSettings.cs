using System.Text.Json;
using System.Text.Json.Nodes;
using ScaiKey.Api.Errors;
using ScaiKey.Api.IdentityProviders;
using ScaiKey.Api.Security;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Oidc;

/// <summary>Which ID token claims carry what ScaiKey needs; each defaults to the standard claim of that name.</summary>
internal sealed record OidcClaimNames(string Email, string EmailVerified, string GivenName, string FamilyName, string Name)
{
    public static readonly OidcClaimNames Standard = new("email", "email_verified", "given_name", "family_name", "name");

    public static readonly string[] Keys = ["email", "email_verified", "given_name", "family_name", "name"];
}

/// <summary>
/// An OIDC provider's config keys: <c>issuer</c>, <c>client_id</c>, <c>client_secret</c> (sealed), <c>scopes</c>
/// (default "openid email profile"; openid is always asked), <c>claims</c> (claim mappings), and the keys every
/// sign-in provider shares (<c>domains</c>, <c>trust_email</c>, <see cref="FederationProviderSettings"/>).
/// </summary>
internal sealed record OidcSettings(string Issuer, string ClientId, string? ClientSecret, string Scopes, OidcClaimNames Claims)
{
    public const string DefaultScopes = "openid email profile";

    public static OidcSettings Load(KeyRing keyRing, IdentityProvider provider)
    {
        var (plain, secrets) = IdentityProviderConfig.Load(keyRing, provider.Id, provider.Type, provider.ConfigJson, provider.SealedSecrets);
        var scopes = ScopeList(plain["scopes"]);
        if (!scopes.Contains("openid", StringComparer.Ordinal))
        {
            scopes.Insert(0, "openid");
        }

        var mapping = plain["claims"] as JsonObject;
        string Claim(string key, string standard) => mapping?[key] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : standard;
        var standard = OidcClaimNames.Standard;
        return new OidcSettings(
            Text(plain["issuer"]) ?? string.Empty,
            Text(plain["client_id"]) ?? string.Empty,
            Text(secrets["client_secret"]),
            string.Join(' ', scopes.Distinct(StringComparer.Ordinal)),
            new OidcClaimNames(Claim("email", standard.Email), Claim("email_verified", standard.EmailVerified),
                Claim("given_name", standard.GivenName), Claim("family_name", standard.FamilyName), Claim("name", standard.Name)));
    }

    /// <summary>The OIDC-only keys beyond issuer and client_id (checked by IdentityProviderConfig's OIDC case).</summary>
    public static void Validate(JsonObject config, ValidationErrors errors)
    {
        if (config["scopes"] is { } scopes)
        {
            var valid = scopes.GetValueKind() == JsonValueKind.String
                || (scopes is JsonArray array && array.All(s => s?.GetValueKind() == JsonValueKind.String));
            var list = valid ? ScopeList(scopes) : [];
            if (!valid || list.Count == 0 || list.Any(s => s.Length > 100 || s.Any(c => c is <= ' ' or '"' or '\\' or > '~')))
            {
                errors.ValueError(["body", "config", "scopes"], "must be a space-separated string or an array of scope names");
            }
        }

        if (config["claims"] is { } claims)
        {
            if (claims is not JsonObject mapping)
            {
                errors.Add(["body", "config", "claims"], "Input should be a valid dictionary", "dict_type");
            }
            else
            {
                foreach (var (key, value) in mapping)
                {
                    if (!OidcClaimNames.Keys.Contains(key, StringComparer.Ordinal))
                    {
                        errors.ValueError(["body", "config", "claims", key], "unknown claim mapping; use " + string.Join(", ", OidcClaimNames.Keys));
                    }
                    else if (value?.GetValueKind() != JsonValueKind.String || value.GetValue<string>().Length is 0 or > 100)
                    {
                        errors.ValueError(["body", "config", "claims", key], "must be the name of a claim (1 to 100 characters)");
                    }
                }
            }
        }

        FederationProviderSettings.Validate(config, errors);
    }

    private static List<string> ScopeList(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
        JsonArray a => a.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s.Trim() : string.Empty).Where(s => s.Length > 0).ToList(),
        _ => DefaultScopes.Split(' ').ToList(),
    };

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
