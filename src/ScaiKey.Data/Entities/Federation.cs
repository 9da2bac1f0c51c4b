namespace ScaiKey.Data.Entities;

/// <summary>
/// A run of an identity provider's directory sync (LDAP): started by an admin (FULL) or by the periodic sync
/// (INCREMENTAL), with its counts as the sync-jobs route reports them.
/// </summary>
public sealed class IdentityProviderSyncJob
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string IdentityProviderId { get; set; }

    // FULL or INCREMENTAL.
    public required string Kind { get; set; }

    // RUNNING, SUCCEEDED or FAILED.
    public required string Status { get; set; }
    public int Created { get; set; }
    public int Updated { get; set; }
    public int Disabled { get; set; }
    public int Errors { get; set; }

    // A short, secret-free account of what went wrong (the first errors, or why the job failed).
    public string? ErrorDetail { get; set; }

    // The admin (user id or client id) who started it; null for the periodic sync.
    public string? StartedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
}

/// <summary>
/// A federated sign-in in flight, held on the server: an OIDC authorization request (state, nonce, PKCE verifier),
/// a SAML AuthnRequest (its ID, which the response's InResponseTo must name), or a link waiting for the local
/// user's password. The browser holds only the random id; what the flow needs is sealed in <see cref="SealedData"/>.
/// Single use: the flow that finishes it sets <see cref="ConsumedAt"/> with a conditional update.
/// </summary>
public sealed class FederationRequest
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string IdentityProviderId { get; set; }

    // OIDC_AUTHORIZE, SAML_AUTHN or LINK_CONFIRM.
    public required string Kind { get; set; }
    public required string SealedData { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? ConsumedAt { get; set; }
}

public static class FederationRequestKinds
{
    public const string OidcAuthorize = "OIDC_AUTHORIZE";
    public const string SamlAuthn = "SAML_AUTHN";
    public const string LinkConfirm = "LINK_CONFIRM";
}

/// <summary>
/// An assertion (SAML assertion ID) already accepted from a provider, kept until it expires, so that the same
/// assertion cannot sign anyone in twice.
/// </summary>
public sealed class FederationReplay
{
    public required string IdentityProviderId { get; set; }
    public required string AssertionId { get; set; }
    public DateTime ExpiresAt { get; set; }
}
