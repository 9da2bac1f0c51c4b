using System.ComponentModel;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ScaiKey.Api.OpenApi;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

[Description("Schema for creating a new user.")]
internal record UserCreate(
    [property: ApiFormat("email")] string Email,
    string? Username,
    string? FirstName,
    string? LastName,
    string? DisplayName,
    string? Phone,
    [property: ApiDefault("en")] string Locale,
    [property: ApiDefault("UTC")] string Timezone,
    string? Password,
    string? OuId,
    [property: ApiOptional] IReadOnlyList<string> GroupIds,
    JsonObject? CustomAttributes,
    [property: ApiDefault(false)] bool RequirePasswordChange,
    [property: ApiDefault(true)] bool SendWelcomeEmail);

[Description("Schema for creating a user through the admin API: a UserCreate plus the tenant it belongs to.")]
internal sealed record AdminUserCreate(
    [property: ApiFormat("email")] string Email,
    string? Username,
    string? FirstName,
    string? LastName,
    string? DisplayName,
    string? Phone,
    [property: ApiDefault("en")] string Locale,
    [property: ApiDefault("UTC")] string Timezone,
    string? Password,
    string? OuId,
    [property: ApiOptional] IReadOnlyList<string> GroupIds,
    JsonObject? CustomAttributes,
    [property: ApiDefault(false)] bool RequirePasswordChange,
    [property: ApiDefault(true)] bool SendWelcomeEmail,
    string TenantId);

[Description("Schema for updating a user.")]
internal sealed record UserUpdate(
    [property: ApiFormat("email")] string? Email,
    string? Username,
    string? FirstName,
    string? LastName,
    string? DisplayName,
    string? Phone,
    string? Locale,
    string? Timezone,
    string? OuId,
    JsonObject? CustomAttributes);

[Description("Schema for updating user status.")]
internal sealed record UserStatusUpdate(
    UserStatus Status,
    string? Reason,
    [property: ApiDefault(false)] bool TerminateSessions);

[Description("Schema for password reset request.")]
internal sealed record UserPasswordReset(
    [property: ApiDefault("EMAIL")] string Method,
    string? NewPassword,
    string? RedirectUri);

[Description("Admin password reset: the admin sets the new password directly.")]
internal sealed record AdminPasswordReset(
    string NewPassword,
    [property: ApiDefault(true)] bool RequirePasswordChange);

[Description("Group membership info for a user.")]
internal sealed record UserGroupMembership(
    string GroupId,
    string Name,
    [property: ApiDefault("DIRECT")] string MembershipType);

[Description("Full user response.")]
internal class UserResponse
{
    [ApiFormat("email")] public required string Email { get; init; }
    public string? Username { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? DisplayName { get; init; }
    public string? Phone { get; init; }
    [ApiDefault("en")] public required string Locale { get; init; }
    [ApiDefault("UTC")] public required string Timezone { get; init; }
    public required string Id { get; init; }
    [ApiDefault(false)] public bool EmailVerified { get; init; }
    public string? AvatarUrl { get; init; }
    public string? OuId { get; init; }
    public string? OuPath { get; init; }
    public UserStatus Status { get; init; }
    public IdentitySource IdentitySource { get; init; }
    [ApiDefault(false)] public bool MfaEnabled { get; init; }
    [ApiOptional] public IReadOnlyList<UserGroupMembership> Groups { get; init; } = [];
    public JsonObject? CustomAttributes { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? UpdatedAt { get; init; }
    public DateTime? LastLoginAt { get; init; }
    public DateTime? PasswordChangedAt { get; init; }

    [Description("Only with include=federated_identities.")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [ApiOptional] public IReadOnlyList<FederatedIdentityResponse>? FederatedIdentities { get; set; }

    [Description("Only with include=applications.")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [ApiOptional] public IReadOnlyList<UserApplicationResponse>? Applications { get; set; }

    [Description("Only with include=sessions.")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [ApiOptional] public IReadOnlyList<UserSessionResponse>? Sessions { get; set; }

    [Description("Only with include=mfa_factors.")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [ApiOptional] public IReadOnlyList<MfaFactorResponse>? MfaFactors { get; set; }
}

[Description("Full user response with the tenant the user belongs to (admin API).")]
internal sealed class AdminUserResponse : UserResponse
{
    public required string TenantId { get; init; }
}

[Description("Abbreviated user info for lists.")]
internal record UserListItem(
    string Id,
    string Email,
    string? DisplayName,
    UserStatus Status,
    string? OuPath,
    IdentitySource IdentitySource,
    [property: ApiDefault(false)] bool MfaEnabled,
    DateTime? LastLoginAt);

[Description("Abbreviated user info for the cross-tenant admin list.")]
internal sealed record AdminUserListItem(
    string Id,
    string Email,
    string? DisplayName,
    UserStatus Status,
    string? OuPath,
    IdentitySource IdentitySource,
    [property: ApiDefault(false)] bool MfaEnabled,
    DateTime? LastLoginAt,
    string TenantId);

[Description("A link between the user and an account at an external identity provider.")]
internal sealed record FederatedIdentityResponse(string Id, string IdentityProviderId, string IdentityProviderType, string Subject, DateTime CreatedAt);

[Description("An application the user is assigned to.")]
internal sealed record UserApplicationResponse(string Id, string Name, string Type, string AssignedVia);

[Description("A sign-in session of the user.")]
internal sealed record UserSessionResponse(string Id, string? UserAgent, string? IpAddress, DateTime CreatedAt, DateTime LastSeenAt);

[Description("A registered second factor (its secret is never returned).")]
internal sealed record MfaFactorResponse(string Id, string Type, string? Name, DateTime CreatedAt);

[Description("Outcome of a password reset.")]
internal sealed record PasswordResetResponse(
    string UserId,
    string Method,
    [property: Description("TEMPORARY only: the one-time password, shown in this response and never again.")] string? TemporaryPassword,
    [property: Description("EMAIL only: when the emailed link stops working.")] DateTime? LinkExpiresAt,
    bool RequirePasswordChange);
