namespace ScaiKey.Api.Errors;

/// <summary>
/// Turns framework-made empty error responses (401 from the bearer handler, 404/405 from routing) into
/// problem+json, and unhandled exceptions into a 500 without internals.
/// </summary>
internal sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            http.Response.Clear();
            var status = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? 413 : 400;
            await Problems.WriteAsync(http, status, status == 413 ? Problems.DefaultDetail(413) : "The request could not be read.");
            return;
        }
        catch (Security.HashingQueueFullException ex) when (!http.Response.HasStarted)
        {
            // Any other request that hashes (user create, password reset) when the queue is full: 503, not 500.
            http.Response.Clear();
            Problems.SetRetryAfter(http.Response, ex.RetryAfter);
            await Problems.WriteAsync(http, StatusCodes.Status503ServiceUnavailable, Problems.DefaultDetail(StatusCodes.Status503ServiceUnavailable));
            return;
        }
        catch (Exception ex) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(ex, "Unhandled exception for {Method} {Path}", http.Request.Method, http.Request.Path);
            http.Response.Clear();
            await Problems.WriteAsync(http, 500, "The server could not complete the request. Quote the request_id when reporting it.");
            return;
        }

        if (!http.Response.HasStarted && http.Response.ContentLength is null && http.Response.ContentType is null
            && http.Response.StatusCode is 401 or 403 or 404 or 405 or 413 or 415)
        {
            await Problems.WriteAsync(http, http.Response.StatusCode, Problems.DefaultDetail(http.Response.StatusCode));
        }
    }
}
