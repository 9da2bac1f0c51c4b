using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ScaiKey.Api.Health;

[Description("Health of the process or its dependencies: ok, degraded or unavailable, with each check's status.")]
internal sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string>? Checks = null);

/// <summary>
/// /healthz: the process answers (liveness; no dependency, so a database outage never restarts the instance).
/// /readyz: <see cref="HealthChecks"/> (readiness): 200 "ok" or "degraded", 503 "unavailable". Without auth, and
/// without details beyond each check's status, so nothing about the deployment leaks.
/// </summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Live).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", ReadyAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static IResult Live() => TypedResults.Ok(new HealthResponse("ok"));

    private static async Task<IResult> ReadyAsync([FromServices] HealthCheckService checks, [FromServices] ILoggerFactory loggers, CancellationToken ct)
    {
        var report = await checks.CheckHealthAsync(c => c.Tags.Contains(HealthChecks.Ready), ct);
        var statuses = report.Entries.ToDictionary(e => e.Key, e => Name(e.Value.Status), StringComparer.Ordinal);
        if (report.Status != HealthStatus.Healthy)
        {
            // The reasons go to the log for the operator, not to whoever asks.
            var logger = loggers.CreateLogger("ScaiKey.Health");
            foreach (var (name, entry) in report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy))
            {
                logger.LogWarning("Readiness check {Check} is {Status}: {Description}", name, entry.Status,
                    entry.Description ?? entry.Exception?.GetType().Name);
            }
        }

        var body = new HealthResponse(Name(report.Status), statuses);
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(body);
    }

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "ok",
        HealthStatus.Degraded => "degraded",
        _ => "unavailable",
    };
}
