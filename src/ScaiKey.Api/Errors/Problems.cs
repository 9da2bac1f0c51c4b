using ScaiKey.Api.Http;

namespace ScaiKey.Api.Errors;

/// <summary>RFC 9457 problem body; request_id ties it to the server's logs.</summary>
internal sealed record ProblemResponse(string Type, string Title, int Status, string Detail, string? RequestId);

/// <summary>A problem; <paramref name="type"/> names a specific one (else the status's own type) for clients to branch on.</summary>
internal sealed class ProblemResult(int status, string detail, string? type = null) : IResult
{
    public int StatusCode => status;

    public Task ExecuteAsync(HttpContext httpContext) => Problems.WriteAsync(httpContext, status, detail, type);
}

/// <summary>429 or 503 with Retry-After in whole seconds (rounded up, at least 1), so a client that obeys it is let in.</summary>
internal sealed class RetryLaterResult(int status, TimeSpan retryAfter, string detail) : IResult
{
    public int StatusCode => status;

    public TimeSpan RetryAfter => retryAfter;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        Problems.SetRetryAfter(httpContext.Response, retryAfter);
        return Problems.WriteAsync(httpContext, status, detail);
    }
}

internal static class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>
    /// A 403 of its own kind: the caller may do this, but only with a sign-in (or step-up) in the last few minutes.
    /// Clients tell it from a plain 403 by this type and send the user to sign in again.
    /// </summary>
    public const string ReauthenticationRequiredType = "reauthentication-required";

    public const string ReauthenticationRequiredDetail =
        "This change needs a recent sign-in: sign in again (or complete a step-up) and retry within 5 minutes.";

    public static ProblemResult ReauthenticationRequired() =>
        new(StatusCodes.Status403Forbidden, ReauthenticationRequiredDetail, ReauthenticationRequiredType);

    public static ProblemResult NotFound(string detail) => new(StatusCodes.Status404NotFound, detail);

    public static ProblemResult Forbidden(string detail = "You are not allowed to perform this action.") =>
        new(StatusCodes.Status403Forbidden, detail);

    public static ProblemResult Conflict(string detail) => new(StatusCodes.Status409Conflict, detail);

    /// <summary>A 409 of a named kind (urn:scaikey:problem:{type}), for a state the client can act on.</summary>
    public static ProblemResult Conflict(string type, string detail) => new(StatusCodes.Status409Conflict, detail, type);

    public static ProblemResult PreconditionFailed() =>
        new(StatusCodes.Status412PreconditionFailed, "The resource was changed since you read it (If-Match does not match its ETag). Read it again and retry.");

    public static ProblemResult PayloadTooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "The request body is larger than 1 MiB.");

    public static ProblemResult UnsupportedMediaType() =>
        new(StatusCodes.Status415UnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).");

    public static RetryLaterResult TooManyRequests(TimeSpan retryAfter, string detail = "Too many attempts. Wait for the time given in Retry-After, then try again.") =>
        new(StatusCodes.Status429TooManyRequests, retryAfter, detail);

    /// <summary>503 when the password hashing queue is full: refused at once rather than queued without limit.</summary>
    public static RetryLaterResult Busy(TimeSpan retryAfter) =>
        new(StatusCodes.Status503ServiceUnavailable, retryAfter, DefaultDetail(StatusCodes.Status503ServiceUnavailable));

    /// <summary>Sets Retry-After; also for responses that are not problem+json (the login page, OAuth errors).</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan retryAfter) =>
        response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static async Task WriteAsync(HttpContext http, int status, string detail, string? type = null)
    {
        var (slug, title) = Describe(status);
        slug = type ?? slug;
        http.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized && !http.Response.Headers.ContainsKey("WWW-Authenticate"))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
        }

        var body = new ProblemResponse("urn:scaikey:problem:" + (type ?? slug), title, status, detail, http.TraceIdentifier);
        await http.Response.WriteAsJsonAsync(body, ApiJson.Options, ContentType);
    }

    public static string DefaultDetail(int status) => status switch
    {
        401 => "A valid bearer access token is required.",
        403 => "You are not allowed to perform this action.",
        404 => "The requested resource was not found.",
        405 => "This HTTP method is not allowed on this resource.",
        413 => "The request body is larger than 1 MiB.",
        415 => "The request body must be JSON (Content-Type: application/json).",
        429 => "Too many requests. Retry later.",
        503 => "The server is busy checking passwords. Wait for the time given in Retry-After, then try again.",
        _ => "The server could not complete the request.",
    };

    private static (string Slug, string Title) Describe(int status) => status switch
    {
        400 => ("bad-request", "Bad Request"),
        401 => ("unauthorized", "Unauthorized"),
        403 => ("forbidden", "Forbidden"),
        404 => ("not-found", "Not Found"),
        405 => ("method-not-allowed", "Method Not Allowed"),
        409 => ("conflict", "Conflict"),
        412 => ("precondition-failed", "Precondition Failed"),
        413 => ("payload-too-large", "Payload Too Large"),
        415 => ("unsupported-media-type", "Unsupported Media Type"),
        429 => ("too-many-requests", "Too Many Requests"),
        503 => ("service-unavailable", "Service Unavailable"),
        _ => ("internal-error", "Internal Server Error"),
    };
}
