using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Http;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.Users;

/// <summary>
/// The helpdesk actions that existed only under /api/v1/admin/users (platform and partner admins) for the tenant's own
/// admins and helpdesk: users.support, as the permission model says (unlock, reset, disable MFA, status), and only on
/// users whose roles the caller's cover. Same commands, same audit events as the admin routes.
/// </summary>
internal static class UserSupportEndpoints
{
    public static void MapUserSupport(IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/users", "Users");
        group.MapPost("/{user_id}/mfa/disable", DisableMfaAsync).Requires(Permission.UsersSupport).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Disable User Mfa (tenant)").WithDescription("Disable MFA for a user of the tenant: factors, recovery codes and enrolments removed, sessions ended, the user mailed.")
            .Returns<Http.ApiResponse<UserResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();
        group.MapPost("/{user_id}/unlock", UnlockAsync).Requires(Permission.UsersSupport).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Unlock User (tenant)").WithDescription("Unlock a locked user of the tenant and reset its failed sign-in count.")
            .Returns<Http.ApiResponse<UserResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();
    }

    private static async Task<IResult> DisableMfaAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] UserCommands commands, CancellationToken ct) =>
        UserResults.Ok(http, await commands.DisableMfaAsync<UserResponse>(RequestInfo.From(http), http.Tenant().Id, userId, ct));

    private static async Task<IResult> UnlockAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] UserCommands commands, CancellationToken ct) =>
        UserResults.Ok(http, await commands.UnlockAsync<UserResponse>(RequestInfo.From(http), http.Tenant().Id, userId, ct));
}
