using System.ComponentModel;
using System.Text.Json;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.OpenApi;

namespace ScaiKey.Api.Tenancy;

[Description("Password rules for users of the tenant.")]
internal sealed record PasswordPolicySettings(
    [property: ApiDefault(12)] int MinLength = 12,
    [property: ApiDefault(256)] int MaxLength = 256,
    [property: ApiDefault(true)] bool BlockCommonPasswords = true,
    [property: ApiDefault(true)] bool DisallowEmailLocalPart = true);

[Description("Consecutive failed sign-ins that lock an account, and for how long (0: until an admin unlocks).")]
internal sealed record LockoutPolicySettings(
    [property: ApiDefault(5)] int MaxFailedAttempts = 5,
    [property: ApiDefault(15)] int LockoutDurationMinutes = 15);

[Description("Multi-factor authentication policy.")]
internal sealed record MfaPolicySettings([property: ApiDefault(false)] bool Required = false);

[Description("Users who sign in through an identity provider (identity_source OIDC or SAML): whether an admin may give them a "
    + "local ScaiKey password too (a reset) and whether it signs them in. LDAP users always sign in with the directory's password.")]
internal sealed record FederationPolicySettings([property: ApiDefault(false)] bool AllowLocalPasswords = false);

[Description("Tenant policies.")]
internal sealed record TenantSettings(
    [property: ApiOptional] PasswordPolicySettings PasswordPolicy,
    [property: ApiOptional] LockoutPolicySettings LockoutPolicy,
    [property: ApiOptional] MfaPolicySettings MfaPolicy,
    [property: ApiDefault(false)] bool RequireApproval,
    [property: ApiOptional] IReadOnlyList<string> AllowedRedirectUris,
    [property: ApiOptional] FederationPolicySettings? FederationPolicy = null,
    [property: ApiOptional] BrandingSettings? Branding = null)
{
    public static readonly TenantSettings Default = new(new(), new(), new(), false, [], new(), new());

    /// <summary>Settings stored before a policy existed read as its defaults.</summary>
    public static TenantSettings FromJson(string json) =>
        JsonSerializer.Deserialize<TenantSettings>(json, ApiJson.Options) is { } settings
            ? settings with { FederationPolicy = settings.FederationPolicy ?? new(), Branding = settings.Branding ?? new() }
            : Default;

    /// <summary>
    /// Whether a local password may be set for (and sign in) a user of this identity source: always for LOCAL and
    /// SCIM users, never for LDAP users (the directory holds their password), for OIDC and SAML users only when the
    /// tenant's federation_policy allows it.
    /// </summary>
    public bool AllowsLocalPassword(ScaiKey.Data.Entities.IdentitySource source) => source switch
    {
        ScaiKey.Data.Entities.IdentitySource.Ldap => false,
        ScaiKey.Data.Entities.IdentitySource.Oidc or ScaiKey.Data.Entities.IdentitySource.Saml => FederationPolicy?.AllowLocalPasswords ?? false,
        _ => true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, ApiJson.Options);

    /// <summary>Applies the fields present in <paramref name="element"/> over these settings; absent fields keep their value.</summary>
    public TenantSettings Merge(JsonElement element, ValidationErrors errors)
    {
        var root = new BodyReader(element, errors, "body", "settings");
        var result = this;
        if (root.RawObject("password_policy") is { } pp)
        {
            var r = new BodyReader(pp, errors, "body", "settings", "password_policy");
            var p = result.PasswordPolicy;
            var min = r.OptionalInt("min_length", 8, 1024);
            var max = r.OptionalInt("max_length", 8, 1024);
            var common = r.OptionalBool("block_common_passwords");
            var local = r.OptionalBool("disallow_email_local_part");
            r.RejectUnknownFields();
            p = p with
            {
                MinLength = min.Value ?? p.MinLength,
                MaxLength = max.Value ?? p.MaxLength,
                BlockCommonPasswords = common.Value ?? p.BlockCommonPasswords,
                DisallowEmailLocalPart = local.Value ?? p.DisallowEmailLocalPart,
            };
            if (p.MinLength > p.MaxLength)
            {
                errors.ValueError(["body", "settings", "password_policy", "min_length"], "min_length must not exceed max_length");
            }

            result = result with { PasswordPolicy = p };
        }

        if (root.RawObject("lockout_policy") is { } lp)
        {
            var r = new BodyReader(lp, errors, "body", "settings", "lockout_policy");
            var attempts = r.OptionalInt("max_failed_attempts", 1, 100);
            var minutes = r.OptionalInt("lockout_duration_minutes", 0, 10080);
            r.RejectUnknownFields();
            result = result with
            {
                LockoutPolicy = new(attempts.Value ?? result.LockoutPolicy.MaxFailedAttempts, minutes.Value ?? result.LockoutPolicy.LockoutDurationMinutes),
            };
        }

        if (root.RawObject("mfa_policy") is { } mp)
        {
            var r = new BodyReader(mp, errors, "body", "settings", "mfa_policy");
            var required = r.OptionalBool("required");
            r.RejectUnknownFields();
            result = result with { MfaPolicy = new(required.Value ?? result.MfaPolicy.Required) };
        }

        if (root.RawObject("federation_policy") is { } fp)
        {
            var r = new BodyReader(fp, errors, "body", "settings", "federation_policy");
            var allow = r.OptionalBool("allow_local_passwords");
            r.RejectUnknownFields();
            result = result with { FederationPolicy = new(allow.Value ?? result.FederationPolicy?.AllowLocalPasswords ?? false) };
        }

        if (root.RawObject("branding") is { } bp)
        {
            result = result with { Branding = (result.Branding ?? new()).Merge(bp, errors) };
        }

        var approval = root.OptionalBool("require_approval");
        if (approval.IsSet)
        {
            result = result with { RequireApproval = approval.Value ?? result.RequireApproval };
        }

        var uris = root.StringList("allowed_redirect_uris", 100, 2048);
        if (uris is not null)
        {
            for (var i = 0; i < uris.Count; i++)
            {
                if (!Uri.TryCreate(uris[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.Fragment))
                {
                    errors.ValueError(["body", "settings", "allowed_redirect_uris", i], "must be an absolute http(s) URI without a fragment");
                }
            }

            result = result with { AllowedRedirectUris = uris.Distinct(StringComparer.Ordinal).ToList() };
        }

        root.RejectUnknownFields();
        return result;
    }
}
