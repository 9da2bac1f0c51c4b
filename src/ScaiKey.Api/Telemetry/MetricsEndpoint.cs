using Microsoft.Extensions.Options;

namespace ScaiKey.Api.Telemetry;

/// <summary>
/// <c>/metrics</c>, Prometheus's text format, for the addresses of <see cref="MetricsOptions"/> only. Everyone else,
/// and everyone while it is off, gets the 404 of a path that does not exist: the endpoint does not announce itself.
/// </summary>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    // Set by the first middleware of the pipeline: the request arrived with forwarding headers.
    private const string ForwardedItem = "scaikey.metrics.forwarded";

    /// <summary>Maps the endpoint when ScaiKey:Metrics:Enabled; otherwise nothing.</summary>
    public static WebApplication MapScaiKeyMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Enabled)
        {
            // Off: the 404 of a path that does not exist (an unknown path would ask for a token first).
            app.Map(Path, NotFound).AllowAnonymous().DisableHttpMetrics().ExcludeFromDescription();
            return app;
        }

        var proxies = app.Services.GetRequiredService<ScaiKey.Api.Http.ProxyOptions>();
        // This host's provider, named: the exporter would otherwise look for one itself.
        app.MapPrometheusScrapingEndpoint(Path, app.Services.GetRequiredService<OpenTelemetry.Metrics.MeterProvider>(), null, null)
            .AllowAnonymous()
            .DisableHttpMetrics()
            .Add(endpoint =>
            {
                var scrape = endpoint.RequestDelegate!;
                endpoint.RequestDelegate = http =>
                {
                    if (Admits(http, options, proxies))
                    {
                        return scrape(http);
                    }

                    return NotFound(http);
                };
            });
        return app;
    }

    private static Task NotFound(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>
    /// The client's address is the connection's, or the one ScaiKey's forwarded-headers step took from a trusted
    /// proxy. With no proxy trusted, a request that carries forwarding headers came through a proxy that is not
    /// configured (often one on the same host, which would make every client look like loopback): refused.
    /// </summary>
    private static bool Admits(HttpContext http, MetricsOptions options, ScaiKey.Api.Http.ProxyOptions proxies) =>
        !(http.Items.ContainsKey(ForwardedItem) && !proxies.Any) && options.Allows(http.Connection.RemoteIpAddress);

    /// <summary>At the front of the pipeline, before the forwarded-headers step removes what it does not trust.</summary>
    internal sealed class ForwardedMarker : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, following) =>
            {
                // By segments ("/metrics/" routes to the endpoint too), and every header a proxy may name the client in;
                // other paths pay one comparison.
                if (http.Request.Path.StartsWithSegments(Path, StringComparison.OrdinalIgnoreCase)
                    && (http.Request.Headers.ContainsKey("X-Forwarded-For") || http.Request.Headers.ContainsKey("Forwarded")
                        || http.Request.Headers.ContainsKey("X-Real-IP")))
                {
                    http.Items[ForwardedItem] = true;
                }

                return following(http);
            });
            next(app);
        };
    }
}
