using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Access;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>The tenant directory: /api/v1/tenants/{tenant_id}/users.</summary>
internal static class UserEndpoints
{
    internal static readonly QueryParameter<string> Search = Query.NullableString("search", 200);
    private static readonly QueryParameter<UserStatus?> Status = Query.NullableEnum<UserStatus>("status", documentAsRef: true);
    private static readonly QueryParameter<string> OuId = Query.NullableString("ou_id", 64);
    private static readonly QueryParameter<string> GroupId = Query.NullableString("group_id", 64);
    private static readonly QueryParameter<bool?> MfaEnabled = Query.NullableBool("mfa_enabled");
    private static readonly QueryParameter<string> SortBy = Query.Literal("sort_by", "created_at", UserReads.SortFields);
    private static readonly QueryParameter<string> SortOrder = Query.Literal("sort_order", "desc", ["asc", "desc"]);
    private static readonly QueryParameter<string> Include = Query.NullableString("include", 200);
    private static readonly QueryParameter<string> ConfirmEmail = Query.RequiredString("confirm_email", 320);

    public static RouteGroupBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/users", "Users");

        group.MapGet("", ListAsync).Requires(Permission.UsersRead)
            .WithSummary("List Users")
            .WithDescription("List users in the tenant directory.\n\nRequires admin authentication. Apps should use the effective-users endpoint instead.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter, Search, Status, OuId, GroupId, MfaEnabled, SortBy, SortOrder)
            .Returns<PaginatedResponse<UserListItem>>().ReturnsProblems(404).DocumentsAuthorizationHeader();

        group.MapPost("", CreateAsync).Requires(Permission.UsersWrite)
            .WithSummary("Create User").WithDescription("Create a new user in the tenant directory.")
            .AcceptsJson<UserCreate>().Returns<ApiResponse<UserResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 409, 413);

        group.MapDelete("/{user_id}", DeleteAsync).Requires(Permission.UsersWrite).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Delete User").WithDescription("Delete a user (soft delete).")
            .WithQuery(ConfirmEmail).ReturnsNoContent().ReturnsProblems(404, 412);

        group.MapGet("/{user_id}", GetAsync).RequiresOrAssignedApplication(Permission.UsersRead)
            .WithSummary("Get User")
            .WithDescription("Get a user by ID.\n\nAuthentication:\n- Admin users can access any user in their scope\n- Applications can access users assigned to them (directly or via group)")
            .WithQuery(Include).Returns<ApiResponse<UserResponse>>().ReturnsProblems(404).DocumentsAuthorizationHeader();

        group.MapPatch("/{user_id}", UpdateAsync).Requires(Permission.UsersWrite).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Update User").WithDescription("Update a user's attributes.")
            .AcceptsJson<UserUpdate>().Returns<ApiResponse<UserResponse>>().ReturnsProblems(404, 409, 412, 413);

        group.MapPost("/{user_id}/password/reset", ResetPasswordAsync).Requires(Permission.UsersSupport).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Reset User Password").WithDescription("Reset a user's password (admin action).")
            .AcceptsJson<UserPasswordReset>().Returns<ApiResponse<PasswordResetResponse>>().ReturnsProblems(404, 413);

        // A support action like a reset: it only mails the user's own address a link, and changes nothing else.
        group.MapPost("/{user_id}/invitation", ResendInvitationAsync).Requires(Permission.UsersSupport).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Resend User Invitation")
            .WithDescription("Send a new invitation email to a user who has not accepted one yet; earlier invitation links stop working. "
                + "409 (type urn:scaikey:problem:invitation-not-pending) when the user has a password or is not waiting for an invitation.")
            .Returns<ApiResponse<UserResponse>>().ReturnsProblems(404, 409);

        group.MapPut("/{user_id}/status", ChangeStatusAsync).Requires(Permission.UsersSupport).RequireAuthorization(ScaiKeyPolicies.CoversTargetUser)
            .WithSummary("Update User Status").WithDescription("Update a user's status (enable, disable, lock, unlock).")
            .AcceptsJson<UserStatusUpdate>().Returns<ApiResponse<UserResponse>>().ReturnsProblems(404, 409, 412, 413);

        return group;
    }

    internal sealed record ListInput(UserListRequest Request) : QueryInput
    {
        // Read in the order the 422's detail lists them.
        public static ValueTask<ListInput?> BindAsync(HttpContext http) => BindAsync(http, static (h, errors) =>
        {
            var paging = PageRequest.Read(h, errors);
            return new ListInput(new UserListRequest(Search.Read(h, errors), Status.Read(h, errors), OuId.Read(h, errors),
                GroupId.Read(h, errors), MfaEnabled.Read(h, errors), SortBy.Read(h, errors)!, SortOrder.Read(h, errors) == "desc", paging));
        });
    }

    internal sealed record GetInput(UserIncludes Includes) : QueryInput
    {
        public static ValueTask<GetInput?> BindAsync(HttpContext http) =>
            BindAsync(http, static (h, errors) => new GetInput(ParseIncludes(Include.Read(h, errors), errors)));
    }

    internal sealed record DeleteInput(string? ConfirmEmail) : QueryInput
    {
        public static ValueTask<DeleteInput?> BindAsync(HttpContext http) => BindAsync(http, static (h, errors) => new DeleteInput(UserEndpoints.ConfirmEmail.Read(h, errors)));
    }

    private static async Task<IResult> ListAsync(ListInput input, HttpContext http, [FromServices] UserListQuery query, CancellationToken ct)
    {
        var request = input.Request;
        var page = await query.RunAsync(http.Tenant().Id, request, ct);
        return page.Errors is { } notFound ? notFound.ToResult() : TypedResults.Ok(Envelope.Page(http, page.Items, request.Paging, page.Total));
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] UserCommands commands, [FromServices] Caller caller, CancellationToken ct)
    {
        var tenant = http.Tenant();
        Idempotency.Request? key = null;
        var bound = await JsonBody.BindAsync(http, UserInput.ReadCreate, (body, errors) =>
            key = Idempotency.FromHeader(http, $"{caller.PrincipalType}:{caller.PrincipalId}", $"POST /api/v1/tenants/{tenant.Id}/users", body.Raw, errors));
        return bound.Failure ?? UserResults.Created(http, await commands.CreateAsync<UserResponse>(RequestInfo.From(http), tenant, bound.Value!, key, ct));
    }

    private static async Task<IResult> GetAsync(
        [FromRoute(Name = "user_id")] string userId, GetInput input, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] UserReads reads, [FromServices] Caller caller, CancellationToken ct)
    {
        var includes = input.Includes;
        if (await caller.ApplicationAsync(ct) is { } application)
        {
            // An application sees only the users assigned to it; any other user does not exist for it.
            if (!await ApplicationAccess.IsAssignedAsync(db, reads, application, userId, ct))
            {
                return UserResults.NotFound();
            }

            if (includes != UserIncludes.None)
            {
                return Problems.Forbidden("Applications may read a user's profile and groups, not its sessions, factors, links or applications.");
            }
        }

        var result = await reads.GetAsync<UserResponse>(http.Tenant().Id, userId, includes, ct);
        if (result is not { } found)
        {
            return UserResults.NotFound();
        }

        ETags.Set(http.Response, found.Version);
        return TypedResults.Ok(Envelope.Of(http, found.Response));
    }

    internal static UserIncludes ParseIncludes(string? raw, ValidationErrors errors)
    {
        var includes = UserIncludes.None;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return includes;
        }

        foreach (var word in raw.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var flag = word switch
            {
                "federated_identities" => UserIncludes.FederatedIdentities,
                "applications" => UserIncludes.Applications,
                "sessions" => UserIncludes.Sessions,
                "mfa_factors" => UserIncludes.MfaFactors,
                "groups" => UserIncludes.None,
                _ => (UserIncludes?)null,
            };
            if (flag is null)
            {
                errors.Add(["query", "include"], $"Value error, unknown include '{word}'; allowed: {string.Join(", ", UserReads.IncludeWords)}", "value_error");
            }
            else
            {
                includes |= flag.Value;
            }
        }

        return includes;
    }

    private static async Task<IResult> UpdateAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, UserInput.ReadUpdate);
        return bound.Failure ?? UserResults.Ok(http, await commands.UpdateAsync<UserResponse>(RequestInfo.From(http), http.Tenant(), userId, bound.Value!, ct));
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "user_id")] string userId, DeleteInput input, HttpContext http, [FromServices] UserCommands commands, CancellationToken ct) =>
        UserResults.NoContent(await commands.DeleteAsync(RequestInfo.From(http), http.Tenant().Id, userId, input.ConfirmEmail, ct));

    private static async Task<IResult> ChangeStatusAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, UserInput.ReadStatus);
        return bound.Failure ?? UserResults.Ok(http, await commands.ChangeStatusAsync<UserResponse>(RequestInfo.From(http), http.Tenant().Id, userId, bound.Value!, ct));
    }

    private static async Task<IResult> ResetPasswordAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] UserCommands commands, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, UserInput.ReadPasswordReset);
        return bound.Failure ?? UserResults.OkBody(http, await commands.ResetPasswordAsync(RequestInfo.From(http), http.Tenant(), userId, bound.Value!, ct));
    }

    private static async Task<IResult> ResendInvitationAsync([FromRoute(Name = "user_id")] string userId, HttpContext http, [FromServices] UserCommands commands, CancellationToken ct) =>
        UserResults.Ok(http, await commands.ResendInvitationAsync<UserResponse>(RequestInfo.From(http), http.Tenant(), userId, ct));
}
