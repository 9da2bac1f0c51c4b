using System.ComponentModel;

namespace ScaiKey.Data.Entities;

[Description("User account status.")]
public enum UserStatus
{
    Active,
    PendingEmailVerification,
    PendingApproval,
    Disabled,
    Locked,
}

[Description("How the user was provisioned / identity source.")]
public enum IdentitySource
{
    Local,
    Oidc,
    Saml,
    Scim,
    Ldap,
}

public sealed class Partner
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
}

public sealed class Tenant
{
    public required string Id { get; set; }
    public string? PartnerId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }

    // Serialized TenantSettings; kept as one JSON document because it is always read and written whole.
    public required string SettingsJson { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public DateTime? DeletedAt { get; set; }
}

public sealed class OrganizationalUnit
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public string? ParentId { get; set; }
    public required string Name { get; set; }

    // Materialized "/Sales/EMEA" path, rewritten for the whole subtree on rename and move.
    public required string Path { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
}

public sealed class Group
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public string? ParentGroupId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }

    // Where the group comes from: LOCAL groups are the admins'; a directory sync (LDAP) or a provisioning client
    // (SCIM) owns the groups it made, found again by their ExternalId (an LDAP entryUUID or DN, a SCIM id) within
    // the provider that made them. A sync never touches LOCAL groups.
    public IdentitySource IdentitySource { get; set; }
    public string? IdentityProviderId { get; set; }
    public string? ExternalId { get; set; }
}

public sealed class GroupMember
{
    public required string GroupId { get; set; }
    public required string UserId { get; set; }
    public required string TenantId { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class User
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string Email { get; set; }
    public required string EmailNormalized { get; set; }
    public string? Username { get; set; }
    public string? UsernameNormalized { get; set; }

    // The provisioning client's own identifier for this user (SCIM externalId); not in the Users API's schema.
    public string? ExternalId { get; set; }
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? DisplayName { get; set; }
    public string? Phone { get; set; }
    public required string Locale { get; set; }
    public required string Timezone { get; set; }
    public bool EmailVerified { get; set; }
    public string? AvatarUrl { get; set; }
    public string? OuId { get; set; }
    public UserStatus Status { get; set; }
    public string? StatusReason { get; set; }
    public IdentitySource IdentitySource { get; set; }
    public bool MfaEnabled { get; set; }
    public string? CustomAttributesJson { get; set; }
    public string? PasswordHash { get; set; }
    public bool RequirePasswordChange { get; set; }
    public int FailedLoginAttempts { get; set; }
    public DateTime? LockedAt { get; set; }

    // Access tokens issued before this instant are no longer honoured for this user.
    public DateTime? TokensRevokedAt { get; set; }

    // Lower-cased concatenation of the searchable names, so one indexed column serves substring search.
    public required string SearchText { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public DateTime? LastLoginAt { get; set; }
    public DateTime? PasswordChangedAt { get; set; }
    public DateTime? DeletedAt { get; set; }

    // Optimistic concurrency token; also the ETag value.
    public int Version { get; set; }
}

/// <summary>
/// How many live (not soft-deleted) users a tenant has in one status. Maintained only by database triggers on
/// <c>users</c> (see the UserScale migrations), so rows written by any path — the API, a bulk INSERT or a
/// PostgreSQL COPY — are counted, and an unfiltered list's exact total costs a handful of rows instead of a
/// COUNT over a million. Never written by the application.
/// </summary>
public sealed class TenantUserCount
{
    public required string TenantId { get; set; }
    public UserStatus Status { get; set; }
    public long LiveUsers { get; set; }
}

/// <summary>
/// A number database triggers raise whenever a tenant's set of searchable users changes (a user added or removed,
/// or its search text, status or deletion changed). An exact result computed at version v stays exact while the
/// version is v, so expensive search totals can be reused without ever being stale. Never written by the application.
/// </summary>
public sealed class TenantDirectoryVersion
{
    public required string TenantId { get; set; }
    public long Version { get; set; }
}

public sealed class UserSession
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string UserId { get; set; }
    public string? UserAgent { get; set; }
    public string? IpAddress { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    public DateTime? RevokedAt { get; set; }

    // How the user proved who they are, as OpenID Connect amr values separated by spaces ("pwd", "pwd otp mfa",
    // "hwk"); null for sessions older than MFA, which were password sign-ins.
    public string? Amr { get; set; }

    // When the user last proved who they are in this session (sign-in or step-up); null means CreatedAt. Account
    // changes that need a recent sign-in read it.
    public DateTime? AuthenticatedAt { get; set; }
}

/// <summary>
/// One chain of tokens issued to an application from one sign-in: an authorization code (redeemable once) and the
/// refresh tokens rotated from it. A refresh token carries the generation it was issued at; presenting an older
/// generation again means it was stolen or replayed, and the whole chain is revoked.
/// </summary>
public sealed class TokenGrant
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string UserId { get; set; }
    public required string SessionId { get; set; }
    public required string ClientId { get; set; }
    public int RefreshGeneration { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? CodeRedeemedAt { get; set; }
    public DateTime? LastRefreshedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public string? RevokedReason { get; set; }
}

public sealed class UserActionToken
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string UserId { get; set; }

    // INVITATION, PASSWORD_RESET or EMAIL_VERIFICATION.
    public required string Purpose { get; set; }

    // SHA-256 of the token; the token itself only ever leaves in the email.
    public required string TokenHash { get; set; }

    // EMAIL_VERIFICATION only: the address the link was sent to, so it verifies that address and no later one.
    public string? Email { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
}

public sealed class EmailOutboxMessage
{
    public required string Id { get; set; }
    public string? TenantId { get; set; }
    public required string ToAddress { get; set; }
    public required string Subject { get; set; }
    public required string Body { get; set; }
    public required string Kind { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? SentAt { get; set; }
    public int Attempts { get; set; }

    // Set by the instance that is sending it, so several instances never send one message twice.
    public DateTime? ClaimedUntil { get; set; }

    // After a failed attempt, not before this instant; null: as soon as possible.
    public DateTime? NextAttemptAt { get; set; }

    // Set when delivery was given up after the last allowed attempt.
    public DateTime? FailedAt { get; set; }
    public string? LastError { get; set; }
}
