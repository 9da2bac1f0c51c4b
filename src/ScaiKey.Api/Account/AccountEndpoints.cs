using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Mfa;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;

namespace ScaiKey.Api.Account;

/// <summary>
/// The signed-in user's own account: /api/v1/me, for user tokens with the account scope (first-party applications,
/// <see cref="AccountTokenRequirement"/>). The user is always the token's subject; there is no user id in any route,
/// and a factor or session id of somebody else is a 404.
/// </summary>
internal static class AccountEndpoints
{
    private const string NoSuchFactor = "Factor not found.";

    public static RouteGroupBuilder MapAccount(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/me").WithTags("Account");
        group.RequireAuthorization(ScaiKeyPolicies.Account);

        // Mapped outside the group: a group's "" child is documented with a trailing slash ("/api/v1/me/").
        app.MapGet("/api/v1/me", GetAsync).WithTags("Account").RequireAuthorization(ScaiKeyPolicies.Account)
            .WithSummary("Get My Account").WithDescription("The signed-in user (a user token with the account scope).")
            .Returns<ApiResponse<UserResponse>>().ReturnsProblems(404);

        group.MapPost("/password", ChangePasswordAsync).RequireAuthorization(ScaiKeyPolicies.AccountRecentSignIn)
            .WithSummary("Change My Password")
            .WithDescription("Change the signed-in user's password. Needs a sign-in in the last 5 minutes (else 403 with the "
                + "reauthentication-required problem type). The user's other sessions end; this one stays.")
            .AcceptsJson<AccountPasswordChange>().ReturnsNoContent().ReturnsProblems(404, 409, 413, 429);

        group.MapGet("/mfa/factors", FactorsAsync)
            .WithSummary("List My Factors").WithDescription("The signed-in user's confirmed second factors (never their secrets).")
            .Returns<ApiResponse<IReadOnlyList<MfaFactorResponse>>>();

        group.MapPost("/mfa/totp", BeginTotpAsync).RequireAuthorization(ScaiKeyPolicies.AccountRecentSignIn)
            .WithSummary("Start TOTP Enrolment")
            .WithDescription("Start enrolling an authenticator app: its secret and otpauth URI, shown once. The factor counts only once confirmed. "
                + "Needs a sign-in in the last 5 minutes, like every change to the factors.")
            .AcceptsJson<TotpEnrolmentStart>().Returns<ApiResponse<TotpEnrolmentResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 413);

        group.MapPost("/mfa/totp/{factor_id}/confirm", ConfirmTotpAsync).RequireAuthorization(ScaiKeyPolicies.AccountRecentSignIn)
            .WithSummary("Confirm TOTP Enrolment")
            .WithDescription("Confirm an enrolment with a code from the app. Returns 10 single-use recovery codes, shown once; any earlier set is void.")
            .AcceptsJson<TotpConfirmation>().Returns<ApiResponse<RecoveryCodesResponse>>().ReturnsProblems(404, 413);

        group.MapPost("/mfa/recovery-codes", RecoveryCodesAsync).RequireAuthorization(ScaiKeyPolicies.AccountRecentSignIn)
            .WithSummary("Regenerate My Recovery Codes")
            .WithDescription("A new set of 10 recovery codes; the old ones stop working. 409 when the user has no confirmed factor. "
                + "Needs a sign-in in the last 5 minutes.")
            .Returns<ApiResponse<RecoveryCodesResponse>>().ReturnsProblems(409);

        group.MapDelete("/mfa/factors/{factor_id}", RemoveFactorAsync).RequireAuthorization(ScaiKeyPolicies.AccountRecentSignIn)
            .WithSummary("Remove My Factor")
            .WithDescription("Remove one of the signed-in user's factors. Needs a sign-in in the last 5 minutes (else 403 with the "
                + "reauthentication-required problem type). Without a confirmed factor left, the recovery codes go too.")
            .ReturnsNoContent().ReturnsProblems(404);

        group.MapGet("/sessions", SessionsAsync)
            .WithSummary("List My Sessions").WithDescription("The signed-in user's sessions; current marks the one of this token.")
            .Returns<ApiResponse<IReadOnlyList<AccountSessionResponse>>>();

        group.MapDelete("/sessions/{session_id}", EndSessionAsync)
            .WithSummary("End My Session").WithDescription("End one of the signed-in user's sessions; its tokens stop working at once.")
            .ReturnsNoContent().ReturnsProblems(404);

        return group;
    }

    private static async Task<IResult> GetAsync(HttpContext http, [FromServices] UserReads reads, CancellationToken ct)
    {
        var caller = AccountCaller.Of(http);
        if (await reads.GetAsync<UserResponse>(caller.TenantId, caller.UserId, UserIncludes.None, ct) is not { } found)
        {
            return UserResults.NotFound();
        }

        ETags.Set(http.Response, found.Version);
        return TypedResults.Ok(Envelope.Of(http, found.Response));
    }

    private static async Task<IResult> ChangePasswordAsync(HttpContext http, [FromServices] AccountService account, [FromServices] ScaiKeyDbContext db, [FromServices] IMemoryCache cache, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, AccountInput.ReadPasswordChange);
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var caller = AccountCaller.Of(http);
        if (await TenantLookup.FindCachedAsync(db, cache, caller.TenantId, ct) is not { } tenant)
        {
            return UserResults.NotFound();
        }

        var input = bound.Value!;
        var result = await account.ChangePasswordAsync(tenant, caller.UserId, caller.SessionId, input.CurrentPassword, input.NewPassword, ct);
        var errors = new ValidationErrors();
        switch (result.Outcome)
        {
            case PasswordChangeOutcome.Changed:
                return TypedResults.NoContent();
            case PasswordChangeOutcome.UserGone:
                return UserResults.NotFound();
            case PasswordChangeOutcome.Limited:
                return Problems.TooManyRequests(result.RetryAfter);
            case PasswordChangeOutcome.Conflict:
                return Problems.Conflict("Your account was changed meanwhile. Try again.");
            case PasswordChangeOutcome.WrongCurrentPassword:
                errors.ValueError(["body", "current_password"], "the current password is not correct");
                break;
            case PasswordChangeOutcome.SameAsCurrent:
                errors.ValueError(["body", "new_password"], "the new password must differ from the current one");
                break;
            default:
                foreach (var violation in result.Violations ?? [])
                {
                    errors.ValueError(["body", "new_password"], violation);
                }

                break;
        }

        return errors.ToResult();
    }

    private static async Task<IResult> FactorsAsync(HttpContext http, [FromServices] AccountService account, CancellationToken ct)
    {
        var caller = AccountCaller.Of(http);
        IReadOnlyList<MfaFactorResponse> factors = await account.FactorsAsync(caller.TenantId, caller.UserId, ct);
        return TypedResults.Ok(Envelope.Of(http, factors));
    }

    private static async Task<IResult> BeginTotpAsync(HttpContext http, [FromServices] AccountService account, [FromServices] ScaiKeyDbContext db, [FromServices] IMemoryCache cache, CancellationToken ct)
    {
        // The body is optional (the name is): no body at all starts an unnamed enrolment.
        string? name = null;
        if (http.Request.ContentLength is not 0 && (http.Request.ContentLength is not null || http.Request.ContentType is not null))
        {
            var bound = await JsonBody.BindAsync(http, AccountInput.ReadTotpStart);
            if (bound.Failure is not null)
            {
                return bound.Failure;
            }

            name = bound.Value!.Name;
        }

        var caller = AccountCaller.Of(http);
        var tenant = await TenantLookup.FindCachedAsync(db, cache, caller.TenantId, ct);
        if (tenant is null || await account.BeginTotpAsync(tenant, caller.UserId, name, ct) is not { } enrolment)
        {
            return UserResults.NotFound();
        }

        return TypedResults.Created((string?)null, Envelope.Of(http, new TotpEnrolmentResponse(enrolment.FactorId, enrolment.Secret, enrolment.OtpAuthUri)));
    }

    private static async Task<IResult> ConfirmTotpAsync([FromRoute(Name = "factor_id")] string factorId, HttpContext http, [FromServices] AccountService account, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, AccountInput.ReadTotpConfirmation);
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var caller = AccountCaller.Of(http);
        var codes = await account.ConfirmTotpAsync(caller.TenantId, caller.UserId, factorId, bound.Value!.Code, ct);
        if (codes is null)
        {
            return Problems.NotFound("No TOTP enrolment with this id is waiting for confirmation.");
        }

        if (codes.Count == 0)
        {
            var errors = new ValidationErrors();
            errors.ValueError(["body", "code"], $"the code is not valid: enter the {TotpCodes.Digits}-digit code your authenticator app shows now");
            return errors.ToResult();
        }

        return TypedResults.Ok(Envelope.Of(http, new RecoveryCodesResponse(codes)));
    }

    private static async Task<IResult> RecoveryCodesAsync(HttpContext http, [FromServices] AccountService account, CancellationToken ct)
    {
        var caller = AccountCaller.Of(http);
        return await account.NewRecoveryCodesAsync(caller.TenantId, caller.UserId, ct) is { } codes
            ? TypedResults.Ok(Envelope.Of(http, new RecoveryCodesResponse(codes)))
            : Problems.Conflict("Recovery codes need a confirmed second factor; enrol one first.");
    }

    private static async Task<IResult> RemoveFactorAsync([FromRoute(Name = "factor_id")] string factorId, HttpContext http, [FromServices] AccountService account, CancellationToken ct)
    {
        var caller = AccountCaller.Of(http);
        return await account.RemoveFactorAsync(caller.TenantId, caller.UserId, factorId, ct) ? TypedResults.NoContent() : Problems.NotFound(NoSuchFactor);
    }

    private static async Task<IResult> SessionsAsync(HttpContext http, [FromServices] AccountService account, CancellationToken ct)
    {
        var caller = AccountCaller.Of(http);
        IReadOnlyList<AccountSessionResponse> sessions = await account.SessionsAsync(caller.TenantId, caller.UserId, caller.SessionId, ct);
        return TypedResults.Ok(Envelope.Of(http, sessions));
    }

    private static async Task<IResult> EndSessionAsync([FromRoute(Name = "session_id")] string sessionId, HttpContext http, [FromServices] AccountService account, CancellationToken ct)
    {
        var caller = AccountCaller.Of(http);
        return await account.EndSessionAsync(caller.TenantId, caller.UserId, sessionId, ct) ? TypedResults.NoContent() : Problems.NotFound("Session not found.");
    }
}
