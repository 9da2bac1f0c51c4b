namespace ScaiKey.Data.Entities;

/// <summary>A service client of the admin API; its rights come only from role assignments.</summary>
public sealed class AdminClient
{
    public required string Id { get; set; }
    public required string ClientId { get; set; }
    public required string Name { get; set; }

    // The partner whose admins manage this client; null for platform-owned clients.
    public string? PartnerId { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A tenant's OAuth client; the OpenIddict application with the same client_id holds its secret and permissions.</summary>
public sealed class Application
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string Name { get; set; }

    // SERVICE, WEB, SPA or NATIVE.
    public required string Type { get; set; }
    public required string ClientId { get; set; }

    // JSON arrays of strings; read and written whole.
    public required string RedirectUrisJson { get; set; }
    public required string GrantTypesJson { get; set; }

    // Marked by a tenant admin: the tenant's own application, which may ask for the `account` scope and skips consent
    // by default.
    public bool FirstParty { get; set; }

    // Whether users are asked to consent to the scopes the application requests (remembered per user).
    public bool ConsentRequired { get; set; }

    // When true, only users assigned to the application (directly or through a group) get codes or tokens.
    public bool AssignmentRequired { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
}

/// <summary>A user's consent to an application's scopes, remembered until the user or an admin revokes it.</summary>
public sealed class UserConsent
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string UserId { get; set; }
    public required string ApplicationId { get; set; }

    // JSON array of the scopes consented to; a request for more asks again.
    public required string ScopesJson { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>Assigns a user, or every member of a group and its nested groups, to an application.</summary>
public sealed class ApplicationAssignment
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string ApplicationId { get; set; }
    public string? UserId { get; set; }
    public string? GroupId { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class IdentityProvider
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string Name { get; set; }

    // OIDC, SAML or LDAP.
    public required string Type { get; set; }

    // Settings without secret values; the secret ones (client secrets, bind passwords, keys) are sealed apart.
    public required string ConfigJson { get; set; }
    public string? SealedSecrets { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }

    // A disabled provider keeps its settings and links, but nobody signs in or syncs through it.
    public bool Enabled { get; set; } = true;

    // LDAP sync: the directory's highest modifyTimestamp seen by the last successful sync (the next incremental
    // sync asks for entries changed since), when it finished, and the lease that keeps two instances from running
    // the same provider's sync at once (the owner takes it with a conditional update; it expires if the owner dies).
    public string? SyncCursor { get; set; }
    public DateTime? LastSyncedAt { get; set; }
    public string? SyncLeaseOwner { get; set; }
    public DateTime? SyncLeaseExpiresAt { get; set; }
}

/// <summary>Links a user to its account (subject) at an identity provider of the same tenant.</summary>
public sealed class FederatedIdentity
{
    public required string Id { get; set; }
    public required string TenantId { get; set; }
    public required string UserId { get; set; }
    public required string IdentityProviderId { get; set; }
    public required string Subject { get; set; }
    public DateTime CreatedAt { get; set; }

    // The email the provider last asserted for this account, and when the account last signed in through it.
    public string? Email { get; set; }
    public DateTime? LastSignInAt { get; set; }
}
