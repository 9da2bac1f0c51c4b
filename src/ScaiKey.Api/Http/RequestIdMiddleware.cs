namespace ScaiKey.Api.Http;

/// <summary>
/// Echoes a caller's X-Request-ID (when it is 1-128 visible ASCII characters) or makes one, so the same id
/// reaches the response header, meta.request_id, every log line and every audit event.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string HeaderName = "X-Request-ID";

    public async Task InvokeAsync(HttpContext http)
    {
        var given = http.Request.Headers[HeaderName].ToString();
        var id = IsAcceptable(given) ? given : Guid.CreateVersion7().ToString("N");
        http.TraceIdentifier = id;
        http.Response.OnStarting(() =>
        {
            http.Response.Headers[HeaderName] = id;

            // Identity data (and the one-time passwords some responses carry) must not sit in shared caches.
            if (http.Request.Path.StartsWithSegments("/api"))
            {
                http.Response.Headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        });
        using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = id }))
        {
            await next(http);
        }
    }

    internal static bool IsAcceptable(string value) =>
        value.Length is > 0 and <= 128 && value.All(c => c is > ' ' and <= '~');
}
