using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using ScaiKey.Api.Errors;

namespace ScaiKey.Api.Authorization;

/// <summary>
/// Writes a refused request as problem+json carrying the failed requirement's reason (403, or 404 for a tenant that
/// does not exist when the caller may see whether it does). A missing or invalid token still goes to the bearer
/// scheme's challenge (OpenIddict's 401), which the error middleware words as problem+json.
/// </summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        var reasons = authorizeResult.AuthorizationFailure?.FailureReasons ?? [];
        if (reasons.OfType<NotFoundReason>().FirstOrDefault() is { } notFound)
        {
            return Problems.WriteAsync(context, StatusCodes.Status404NotFound, notFound.Message);
        }

        if (reasons.OfType<ReauthenticationRequiredReason>().FirstOrDefault() is { } stale)
        {
            return Problems.WriteAsync(context, StatusCodes.Status403Forbidden, stale.Message, Problems.ReauthenticationRequiredType);
        }

        var detail = reasons.FirstOrDefault()?.Message is { Length: > 0 } message ? message : Problems.DefaultDetail(StatusCodes.Status403Forbidden);
        return Problems.WriteAsync(context, StatusCodes.Status403Forbidden, detail);
    }
}
