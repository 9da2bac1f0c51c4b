using System.Text;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;

namespace ScaiKey.Api.Users;

/// <summary>
/// The Users API's edge: turns what <see cref="UserCommands"/> returns into the contract's responses (the envelope,
/// the ETag of the version, 201 with Location, 204, a stored Idempotency-Key answer, problem+json or 422).
/// </summary>
internal static class UserResults
{
    public static ProblemResult NotFound() => Problems.NotFound(UserCommands.NotFoundDetail);

    /// <summary>200 with the user in the envelope and its version as the ETag.</summary>
    public static IResult Ok<T>(HttpContext http, Result<(T Response, int Version)> result)
    {
        if (!result.Succeeded)
        {
            return result.Failure.ToResult();
        }

        ETags.Set(http.Response, result.Value.Version);
        return TypedResults.Ok(Envelope.Of(http, result.Value.Response));
    }

    /// <summary>200 with the value in the envelope (no ETag: the value is not the user resource).</summary>
    public static IResult OkBody<T>(HttpContext http, Result<T> result) =>
        result.Succeeded ? TypedResults.Ok(Envelope.Of(http, result.Value)) : result.Failure.ToResult();

    public static IResult NoContent(Failure? failure) => failure?.ToResult() ?? TypedResults.NoContent();

    public static IResult Created<T>(HttpContext http, Result<UserCreated<T>> result)
    {
        if (!result.Succeeded)
        {
            return result.Failure.ToResult();
        }

        var created = result.Value;
        if (created.Replay is { } replay)
        {
            return new ReplayResult(replay);
        }

        ETags.Set(http.Response, created.Version);
        return TypedResults.Created(created.Location, created.Envelope);
    }

    /// <summary>The stored first answer, marked as a replay.</summary>
    private sealed class ReplayResult(IdempotentReplay replay) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = replay.Status;
            httpContext.Response.ContentType = "application/json";
            httpContext.Response.Headers["Idempotent-Replayed"] = "true";
            if (replay.ETag is not null)
            {
                httpContext.Response.Headers.ETag = replay.ETag;
            }

            if (replay.Location is not null)
            {
                httpContext.Response.Headers.Location = replay.Location;
            }

            await httpContext.Response.WriteAsync(replay.Body, Encoding.UTF8);
        }
    }
}
