using System.ComponentModel;
using ScaiKey.Api.OpenApi;

namespace ScaiKey.Api.Access;

[Description("Grant a role to a user (principal_id: the user's id) or an admin service client (principal_id: its client_id). " +
    "PARTNER_ADMIN needs partner_id, the TENANT_* roles need tenant_id, PLATFORM_ADMIN takes neither.")]
internal sealed record RoleAssignmentCreate(
    string PrincipalType, string PrincipalId, string Role, [property: ApiOptional] string? PartnerId, [property: ApiOptional] string? TenantId);

[Description("A role held by a user or an admin service client.")]
internal sealed record RoleAssignmentResponse(
    string Id, string PrincipalType, string PrincipalId, string Role, string? PartnerId, string? TenantId, DateTime CreatedAt);
