using System.ComponentModel;
using ScaiKey.Data;

namespace ScaiKey.Api.Health;

[Description("Health of the process or its dependencies.")]
internal sealed record HealthResponse(string Status);

internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Live).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", ReadyAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static IResult Live() => TypedResults.Ok(new HealthResponse("ok"));

    private static async Task<IResult> ReadyAsync(ScaiKeyDbContext db, CancellationToken ct)
    {
        try
        {
            return await db.Database.CanConnectAsync(ct)
                ? TypedResults.Ok(new HealthResponse("ok"))
                : TypedResults.Json(new HealthResponse("database unreachable"), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return TypedResults.Json(new HealthResponse("database unreachable"), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
