namespace ScaiKey.Data.Entities;

public sealed class AuditEvent
{
    public required string Id { get; set; }
    public string? TenantId { get; set; }
    public required string ActorType { get; set; }
    public required string ActorId { get; set; }
    public required string Action { get; set; }
    public required string TargetType { get; set; }
    public required string TargetId { get; set; }

    // JSON array of changed field names; never values, so secrets cannot leak into the audit trail.
    public string? ChangesJson { get; set; }
    public string? Reason { get; set; }
    public string? RequestId { get; set; }
    public string? IpAddress { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class IdempotencyRecord
{
    public required string Id { get; set; }
    public required string PrincipalId { get; set; }
    public required string Scope { get; set; }
    public required string Key { get; set; }
    public required string RequestHash { get; set; }
    public int StatusCode { get; set; }
    public required string ResponseBody { get; set; }
    public string? ResponseEtag { get; set; }
    public string? ResponseLocation { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class SigningKey
{
    public required string Id { get; set; }

    // "sig" for token signing, "enc" for OpenIddict's symmetric encryption of codes and refresh tokens.
    public required string Use { get; set; }
    public required string Algorithm { get; set; }

    // AES-GCM sealed key material under the deployment's key-encryption key.
    public required string EncryptedKey { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? RetiredAt { get; set; }
}

public sealed class RoleAssignment
{
    public required string Id { get; set; }

    // USER or CLIENT.
    public required string PrincipalType { get; set; }
    public required string PrincipalId { get; set; }
    public required string Role { get; set; }
    public string? PartnerId { get; set; }
    public string? TenantId { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// A one-time data step that runs after the schema migrations (code EF cannot express in SQL, e.g. renormalizing
/// emails with .NET's IDNA). The row is the claim and the marker: an instance inserts it to run the step, renews
/// ClaimedAt while it works, and sets CompletedAt and Report when done; a completed step never runs again.
/// </summary>
public sealed class DataStep
{
    public required string Name { get; set; }
    public required string ClaimedBy { get; set; }
    public DateTime ClaimedAt { get; set; }
    public DateTime? CompletedAt { get; set; }

    // What the step did, for an operator: counts and the ids it could not handle, never personal data.
    public string? Report { get; set; }
}

/// <summary>
/// A named lease on background work that only one instance may do at a time (the housekeeping purge): taken with a
/// conditional write when free or expired, so an instance that dies mid-run frees it when it expires.
/// </summary>
public sealed class MaintenanceLease
{
    public required string Name { get; set; }
    public required string Owner { get; set; }
    public DateTime ExpiresAt { get; set; }
}
