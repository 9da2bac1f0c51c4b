using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Http;
using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Scim;

/// <summary>The operations /Users and /Groups share, so Bulk can run them too.</summary>
internal interface IScimResources
{
    Task<ScimOutcome> GetAsync(ScimRequest request, string id, IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded, CancellationToken ct);

    Task<ScimOutcome> ListAsync(ScimRequest request, ScimListRequest list, CancellationToken ct);

    Task<ScimOutcome> CreateAsync(ScimRequest request, JsonObject body, CancellationToken ct);

    Task<ScimOutcome> ReplaceAsync(ScimRequest request, string id, JsonObject body, string? ifMatch, CancellationToken ct);

    Task<ScimOutcome> PatchAsync(ScimRequest request, string id, JsonObject body, string? ifMatch, CancellationToken ct);

    Task<ScimOutcome> DeleteAsync(ScimRequest request, string id, string? ifMatch, CancellationToken ct);
}

/// <summary>/scim/v2/Users and /scim/v2/Groups: HTTP only; the services do the work.</summary>
internal static class ScimResourceEndpoints
{
    public static void MapResources<TService>(RouteGroupBuilder scim, string endpoint) where TService : IScimResources
    {
        // Generic handlers are outside the request delegate generator: these seven are built at start-up instead.
#pragma warning disable RDG011
        scim.MapGet(endpoint, ListAsync<TService>);
        scim.MapPost(endpoint + "/.search", SearchAsync<TService>);
        scim.MapPost(endpoint, CreateAsync<TService>);
        scim.MapGet(endpoint + "/{id}", GetAsync<TService>);
        scim.MapPut(endpoint + "/{id}", ReplaceAsync<TService>);
        scim.MapPatch(endpoint + "/{id}", PatchAsync<TService>);
        scim.MapDelete(endpoint + "/{id}", DeleteAsync<TService>);
#pragma warning restore RDG011
    }

    private static async Task<IResult> ListAsync<TService>(HttpContext http, [FromServices] TService service, [FromServices] IOptions<ScimOptions> options, CancellationToken ct)
        where TService : IScimResources
    {
        var list = ScimListParameters.FromQuery(http, options.Value, out var error);
        return list is null ? ScimResults.Error(error!) : ScimResults.Of(await service.ListAsync(ScimRequest.For(http), list, ct));
    }

    private static async Task<IResult> SearchAsync<TService>(HttpContext http, [FromServices] TService service, [FromServices] IOptions<ScimOptions> options, CancellationToken ct)
        where TService : IScimResources
    {
        var (body, bodyError) = await ScimResults.ReadBodyAsync(http, JsonBody.MaxBytes);
        if (body is null)
        {
            return ScimResults.Error(bodyError!);
        }

        var list = ScimListParameters.FromBody(body, options.Value, out var error);
        return list is null ? ScimResults.Error(error!) : ScimResults.Of(await service.ListAsync(ScimRequest.For(http), list, ct));
    }

    private static async Task<IResult> GetAsync<TService>(string id, HttpContext http, [FromServices] TService service, CancellationToken ct)
        where TService : IScimResources =>
        ScimResults.Of(await service.GetAsync(ScimRequest.For(http), id,
            ScimListParameters.Attributes(http, "attributes"), ScimListParameters.Attributes(http, "excludedAttributes"), ct));

    private static async Task<IResult> CreateAsync<TService>(HttpContext http, [FromServices] TService service, [FromServices] Telemetry.ScaiKeyMetrics metrics, CancellationToken ct)
        where TService : IScimResources
    {
        var (body, error) = await ScimResults.ReadBodyAsync(http, JsonBody.MaxBytes);
        return body is null ? ScimResults.Error(error!) : ScimResults.Of((await service.CreateAsync(ScimRequest.For(http), body, ct)).Counted(metrics, Endpoint<TService>(), "POST"));
    }

    private static async Task<IResult> ReplaceAsync<TService>(string id, HttpContext http, [FromServices] TService service, [FromServices] Telemetry.ScaiKeyMetrics metrics, CancellationToken ct)
        where TService : IScimResources
    {
        var (body, error) = await ScimResults.ReadBodyAsync(http, JsonBody.MaxBytes);
        return body is null ? ScimResults.Error(error!) : ScimResults.Of((await service.ReplaceAsync(ScimRequest.For(http), id, body, IfMatch(http), ct)).Counted(metrics, Endpoint<TService>(), "PUT"));
    }

    private static async Task<IResult> PatchAsync<TService>(string id, HttpContext http, [FromServices] TService service, [FromServices] Telemetry.ScaiKeyMetrics metrics, CancellationToken ct)
        where TService : IScimResources
    {
        var (body, error) = await ScimResults.ReadBodyAsync(http, JsonBody.MaxBytes);
        return body is null ? ScimResults.Error(error!) : ScimResults.Of((await service.PatchAsync(ScimRequest.For(http), id, body, IfMatch(http), ct)).Counted(metrics, Endpoint<TService>(), "PATCH"));
    }

    private static async Task<IResult> DeleteAsync<TService>(string id, HttpContext http, [FromServices] TService service, [FromServices] Telemetry.ScaiKeyMetrics metrics, CancellationToken ct)
        where TService : IScimResources =>
        ScimResults.Of((await service.DeleteAsync(ScimRequest.For(http), id, IfMatch(http), ct)).Counted(metrics, Endpoint<TService>(), "DELETE"));

    private static string Endpoint<TService>() => typeof(TService) == typeof(ScimUserService) ? "Users" : "Groups";

    private static string? IfMatch(HttpContext http) => http.Request.Headers.IfMatch.Count == 0 ? null : http.Request.Headers.IfMatch.ToString();
}
