namespace ScaiKey.Data.Entities;

/// <summary>
/// A tenant's SCIM provisioning credential. The token itself is shown once at creation; only its SHA-256 is kept
/// (the token is 256 random bits, so a fast hash is enough to make a stolen table useless). Deleting the row ends it.
/// </summary>
public sealed class ScimToken
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string Name { get; set; }

    // SHA-256 of the whole token, lower-case hex; looked up on every SCIM request.
    public required string TokenHash { get; set; }

    // The token's first characters, so an admin can tell tokens apart without the secret.
    public required string Prefix { get; set; }

    // Who created it (an admin's user id or client id), for the audit trail.
    public string? CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
}
