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
    [ApiFormat("email")] public string Email { get; set; } = string.Empty;
    public string? Username { get; set; }
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? DisplayName { get; set; }
    public string? Phone { get; set; }
    [ApiDefault("en")] public string Locale { get; set; } = "en";
    [ApiDefault("UTC")] public string Timezone { get; set; } = "UTC";
    public string Id { get; set; } = string.Empty;
    [ApiDefault(false)] public bool EmailVerified { get; set; }
    public string? AvatarUrl { get; set; }
    public string? OuId { get; set; }
    public string? OuPath { get; set; }
    public UserStatus Status { get; set; }
    public IdentitySource IdentitySource { get; set; }
    [ApiDefault(false)] public bool MfaEnabled { get; set; }
    [ApiOptional] public IReadOnlyList<UserGroupMembership> Groups { get; set; } = [];
    public JsonObject? CustomAttributes { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public DateTime? LastLoginAt { get; set; }
    public DateTime? PasswordChangedAt { get; set; }

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
    public string TenantId { get; set; } = string.Empty;
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

[Description("A confirmed second factor: TOTP or WEBAUTHN (its secret is never returned).")]
public sealed record MfaFactorResponse(string Id, string Type, string? Name, DateTime CreatedAt, DateTime? LastUsedAt);

[Description("Outcome of a password reset.")]
internal sealed record PasswordResetResponse(
    string UserId,
    string Method,
    [property: Description("TEMPORARY only: the one-time password, shown in this response and never again.")] string? TemporaryPassword,
    [property: Description("EMAIL only: when the emailed link stops working.")] DateTime? LinkExpiresAt,
    bool RequirePasswordChange);

/// <summary>page, per_page and search: the lists of users, groups and applications.</summary>
internal sealed record PagedSearchQuery(Http.PageRequest Paging, string? Search) : Http.QueryInput
{
    public static ValueTask<PagedSearchQuery?> BindAsync(HttpContext http) =>
        BindAsync(http, static (h, e) => new PagedSearchQuery(Http.PageRequest.Read(h, e), UserEndpoints.Search.Read(h, e)));
}

[Flags]
internal enum UserIncludes
{
    None = 0,
    FederatedIdentities = 1,
    Applications = 2,
    Sessions = 4,
    MfaFactors = 8,
}

internal sealed record UserListFilter(
    string? Search, UserStatus? Status, IReadOnlyList<string>? OuIds, IReadOnlyList<string>? GroupIds, bool? MfaEnabled)
{
    /// <summary>
    /// Narrowed by nothing but a search term and a status: what the trigger-kept counters account for (they count
    /// users per status only). The tenant's directory version covers every filter (ListFilterVersions migration).
    /// </summary>
    public bool OnlySearchAndStatus => OuIds is null && GroupIds is null && MfaEnabled is null;

    /// <summary>Narrowed by a group subtree and nothing else.</summary>
    public bool OnlyGroup => GroupIds is not null && UserReads.SearchTerm(Search) is null && Status is null && OuIds is null && MfaEnabled is null;

    /// <summary>Narrowed to the users without MFA and at most a status: what the counters less the enrolled give.</summary>
    public bool OnlyWithoutMfaAndStatus => MfaEnabled == false && UserReads.SearchTerm(Search) is null && OuIds is null && GroupIds is null;

    /// <summary>
    /// The members of <see cref="GroupIds"/> when read beforehand (UserListQuery, a group of at most
    /// UserListQuery.MemberListLimit members): the users are then looked up by id.
    /// </summary>
    public IReadOnlyList<string>? MemberIds { get; init; }

    /// <summary>
    /// For a group too large for <see cref="MemberIds"/>: test membership row by row along the sort's index (a page
    /// found after a few hundred rows) instead of reading every member and sorting them (UserListQuery decides).
    /// </summary>
    public bool WalkGroup { get; init; }

    /// <summary>
    /// The filter as a cache key (with the matched search term), the OU and group subtrees as resolved and sorted: a
    /// move in a tree changes the key, a change of a membership or of a user raises the directory version.
    /// </summary>
    public UserListFilterKey Key(string? term) => new(term, Status, MfaEnabled, Joined(OuIds), Joined(GroupIds));

    private static string? Joined(IReadOnlyList<string>? ids) => ids is null ? null : string.Join('\n', ids.Order(StringComparer.Ordinal));
}

/// <summary>A <see cref="UserListFilter"/> as a value (ids are server-made and hold no line break).</summary>
internal sealed record UserListFilterKey(string? Term, UserStatus? Status, bool? MfaEnabled, string? OuIds, string? GroupIds);
