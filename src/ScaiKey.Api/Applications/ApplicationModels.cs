using System.ComponentModel;
using ScaiKey.Api.OpenApi;

namespace ScaiKey.Api.Applications;

/// <summary>What kind of client an application is; SERVICE and WEB are confidential, SPA and NATIVE public.</summary>
internal enum ApplicationType
{
    Service,
    Web,
    Spa,
    Native,
}

[Description("Register an application (an OAuth client) of the tenant. grant_types among client_credentials, authorization_code, "
    + "refresh_token and password; default: SERVICE [client_credentials], the others [authorization_code, refresh_token]. "
    + "authorization_code needs at least one redirect URI and always requires PKCE.")]
internal sealed record ApplicationCreate(
    string Name,
    ApplicationType Type,
    [property: ApiOptional, Description("Exact redirect URIs (at most 20): https, http only on localhost/127.0.0.1/[::1], "
        + "or for NATIVE a private-use scheme with a dot (com.example.app:/callback).")] IReadOnlyList<string> RedirectUris,
    [property: ApiOptional] IReadOnlyList<string> GrantTypes,
    [property: ApiOptional, Description(ApplicationFieldDocs.FirstParty + " Default false.")] bool FirstParty,
    [property: ApiOptional, Description(ApplicationFieldDocs.ConsentRequired + " Default: true unless first_party.")] bool ConsentRequired,
    [property: ApiOptional, Description(ApplicationFieldDocs.AssignmentRequired + " Default false.")] bool AssignmentRequired);

[Description("Change an application; absent fields are untouched. type cannot be changed.")]
internal sealed record ApplicationUpdate(
    [property: ApiOptional] string Name,
    [property: ApiOptional] IReadOnlyList<string> RedirectUris,
    [property: ApiOptional] IReadOnlyList<string> GrantTypes,
    [property: ApiOptional, Description(ApplicationFieldDocs.FirstParty)] bool FirstParty,
    [property: ApiOptional, Description(ApplicationFieldDocs.ConsentRequired)] bool ConsentRequired,
    [property: ApiOptional, Description(ApplicationFieldDocs.AssignmentRequired)] bool AssignmentRequired);

/// <summary>The meaning of the sign-in settings, shared by the request and response schemas.</summary>
internal static class ApplicationFieldDocs
{
    public const string FirstParty = "The tenant's own application: it may request the `account` scope (self-service account API).";
    public const string ConsentRequired = "Users are asked to allow the requested scopes once (remembered per user, revocable) before the first code.";
    public const string AssignmentRequired = "Only users assigned directly, through a group or a nested group get codes or tokens (others: access_denied / invalid_grant).";
}

[Description("An application (OAuth client) of a tenant. Its secret is never returned after creation or rotation.")]
internal sealed record ApplicationResponse(
    string Id,
    string TenantId,
    string Name,
    ApplicationType Type,
    string ClientId,
    [property: Description("confidential (SERVICE, WEB) or public (SPA, NATIVE).")] string ClientType,
    IReadOnlyList<string> RedirectUris,
    IReadOnlyList<string> GrantTypes,
    [property: Description(ApplicationFieldDocs.FirstParty)] bool FirstParty,
    [property: Description(ApplicationFieldDocs.ConsentRequired)] bool ConsentRequired,
    [property: Description(ApplicationFieldDocs.AssignmentRequired)] bool AssignmentRequired,
    DateTime CreatedAt,
    DateTime? UpdatedAt);

[Description("A newly registered application with its client secret, shown only in this response.")]
internal sealed record ApplicationCreatedResponse(
    string Id,
    string TenantId,
    string Name,
    ApplicationType Type,
    string ClientId,
    [property: Description("confidential (SERVICE, WEB) or public (SPA, NATIVE).")] string ClientType,
    IReadOnlyList<string> RedirectUris,
    IReadOnlyList<string> GrantTypes,
    [property: Description(ApplicationFieldDocs.FirstParty)] bool FirstParty,
    [property: Description(ApplicationFieldDocs.ConsentRequired)] bool ConsentRequired,
    [property: Description(ApplicationFieldDocs.AssignmentRequired)] bool AssignmentRequired,
    DateTime CreatedAt,
    DateTime? UpdatedAt,
    [property: Description("Confidential clients only (null for public ones); shown once, never again.")] string? ClientSecret);

[Description("The new secret of a confidential application, shown only in this response; the previous secret no longer works.")]
internal sealed record ApplicationSecretResponse(string ApplicationId, string ClientId, string ClientSecret);

[Description("Assign a user, or a group (its members and the members of every group nested below it), to the application: exactly one of user_id and group_id.")]
internal sealed record ApplicationAssignmentCreate(string? UserId, string? GroupId);

[Description("An assignment of a user or a group to an application.")]
internal sealed record ApplicationAssignmentResponse(string Id, string ApplicationId, string? UserId, string? GroupId, DateTime CreatedAt);
