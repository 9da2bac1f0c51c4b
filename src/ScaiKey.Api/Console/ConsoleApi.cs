using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Http;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The console's only way to read or change anything: ScaiKey's public API and token endpoint over HTTP, at the
/// service's own base address, with the signed-in admin's access token. What the admin may do is decided there,
/// exactly as for curl; the console has no database access and no permission check of its own.
/// </summary>
internal sealed partial class ConsoleApi(HttpClient http, ILogger<ConsoleApi> logger)
{
    public Task<ApiResult> GetAsync(string accessToken, string path, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, accessToken, path, body: null, ifMatch: null, ct);

    public async Task<ApiResult> SendAsync(HttpMethod method, string accessToken, string path, object? body, string? ifMatch, CancellationToken ct)
    {
        // Ids from URLs and forms are escaped into the path, but "." and ".." survive escaping and would be resolved
        // away, so a posted id of ".." could turn "PATCH groups/{id}" into a call on another resource. No id is a dot
        // segment or empty: such a path is answered as not found without calling the API.
        if (HasDotOrEmptySegment(path))
        {
            return new ApiResult(StatusCodes.Status404NotFound, new JsonObject { ["detail"] = "Not found." }, ETag: null);
        }

        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (body is not null)
        {
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await ExchangeAsync(request.RequestUri, () => http.SendAsync(request, ct), ct);
    }

    /// <summary>A form POST to one of ScaiKey's OAuth endpoints (token, revocation) as the public console client.</summary>
    public async Task<ApiResult> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields, CancellationToken ct)
    {
        using var content = new FormUrlEncodedContent(fields);
        return await ExchangeAsync(new Uri(path.TrimStart('/'), UriKind.Relative), () => http.PostAsync(path.TrimStart('/'), content, ct), ct);
    }

    /// <summary>
    /// One call to the API. When the API cannot be reached (a wrong ScaiKey:Console:ApiBaseAddress, a proxy that does
    /// not route the service to itself, a timeout), the page says so with 502/504 instead of failing with a 500; the
    /// log names the address so an operator can fix it. The request's path is logged without its query.
    /// </summary>
    private async Task<ApiResult> ExchangeAsync(Uri? target, Func<Task<HttpResponseMessage>> send, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await send();
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(logger, http.BaseAddress, target?.OriginalString.Split('?')[0], ex.HttpRequestError, ex);
            return Unreachable(StatusCodes.Status502BadGateway, "The console could not reach ScaiKey's API. Please try again later.");
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            LogUnreachable(logger, http.BaseAddress, target?.OriginalString.Split('?')[0], HttpRequestError.Unknown, ex);
            return Unreachable(StatusCodes.Status504GatewayTimeout, "ScaiKey's API did not answer the console in time. Please try again later.");
        }

        return await ReadAsync(response, ct);
    }

    private static bool HasDotOrEmptySegment(string path) =>
        path.Split('?', 2)[0].Trim('/').Split('/').Any(segment => segment is "" or "." or ".." || segment.StartsWith("%2e", StringComparison.OrdinalIgnoreCase) && Uri.UnescapeDataString(segment) is "." or "..");

    private static ApiResult Unreachable(int status, string detail) => new(status, new JsonObject { ["detail"] = detail }, ETag: null);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The console could not reach the API at {BaseAddress} ({Path}): {Error}")]
    private static partial void LogUnreachable(ILogger logger, Uri? baseAddress, string? path, HttpRequestError error, Exception exception);

    private static async Task<ApiResult> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonNode? json = null;
            if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true)
            {
                try
                {
                    json = JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    json = null;
                }
            }

            return new ApiResult((int)response.StatusCode, json, response.Headers.ETag?.ToString());
        }
    }

    /// <summary>
    /// The API's base address: ScaiKey:Console:ApiBaseAddress, else the issuer, else the first address this server
    /// listens on (a wildcard host read as loopback).
    /// </summary>
    public static Uri? BaseAddress(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IOptions<ConsoleOptions>>().Value.ApiBaseAddress;
        var address = configured is { Length: > 0 } ? new Uri(configured)
            : services.GetRequiredService<PublicOrigin>().Issuer ?? ListeningAddress(services);
        if (address is null)
        {
            return null;
        }

        var text = address.AbsoluteUri;
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }

    private static Uri? ListeningAddress(IServiceProvider services)
    {
        var first = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return first is null ? null : new Uri(first.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).Replace("://[::]", "://[::1]", StringComparison.Ordinal));
    }
}

/// <summary>One API answer: status, JSON body (envelope, problem or 422), and ETag.</summary>
internal sealed record ApiResult(int Status, JsonNode? Json, string? ETag)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public JsonNode? Data => Json?["data"];

    /// <summary>The problem's detail, or a 422's messages joined, or the status.</summary>
    public string Message => Json?["detail"] switch
    {
        JsonValue value => value.ToString(),
        JsonArray errors => string.Join(" ", errors.Select(e => e?["msg"]?.ToString())),
        _ => Json?["error_description"]?.ToString() ?? $"The API answered {Status}.",
    };

    /// <summary>A 422's messages by the field its loc names last (body.email → email); other errors under "".</summary>
    public IReadOnlyDictionary<string, string> FieldErrors()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Status != 422 || Json?["detail"] is not JsonArray errors)
        {
            return result;
        }

        foreach (var error in errors)
        {
            var loc = error?["loc"] as JsonArray;
            var field = loc is { Count: > 1 } ? loc[^1]?.ToString() ?? string.Empty : string.Empty;
            var message = error?["msg"]?.ToString() ?? "Invalid value.";
            result[field] = result.TryGetValue(field, out var earlier) ? earlier + " " + message : message;
        }

        return result;
    }
}
