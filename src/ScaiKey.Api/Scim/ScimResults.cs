using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;
using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Scim;

/// <summary>What a SCIM operation produced: a resource (with its version for the ETag), nothing (204), or an error.</summary>
internal sealed record ScimOutcome(int Status, JsonObject? Resource, string? Version, ScimError? Error, string? Location = null)
{
    public static ScimOutcome Fail(ScimError error) => new(error.Status, null, null, error);

    public static ScimOutcome NotFound(string detail) => Fail(new ScimError(404, null, detail));

    public static ScimOutcome Uniqueness(string detail) => Fail(new ScimError(409, "uniqueness", detail));

    public static ScimOutcome PreconditionFailed() =>
        Fail(new ScimError(412, null, "The resource was changed since you read it (If-Match does not match its version). Read it again and retry."));

    public static readonly ScimOutcome NoContent = new(204, null, null, null);
}

/// <summary>Writes SCIM responses: application/scim+json, the Error schema, ETags from meta.version.</summary>
internal static class ScimResults
{
    public const string ContentType = "application/scim+json; charset=utf-8";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    public static IResult Of(ScimOutcome outcome) => new ScimResult(outcome);

    public static IResult Error(ScimError error) => new ScimResult(ScimOutcome.Fail(error));

    public static IResult Json(JsonObject body, int status = 200) => new ScimResult(new ScimOutcome(status, body, null, null));

    public static JsonObject ErrorBody(ScimError error)
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.Error),
            ["status"] = error.Status.ToString(CultureInfo.InvariantCulture),
        };
        if (error.ScimType is not null)
        {
            body["scimType"] = error.ScimType;
        }

        body["detail"] = error.Detail;
        return body;
    }

    public static Task WriteErrorAsync(HttpContext http, ScimError error)
    {
        http.Response.StatusCode = error.Status;
        http.Response.ContentType = ContentType;
        return http.Response.WriteAsync(ErrorBody(error).ToJsonString(Options), http.RequestAborted);
    }

    /// <summary>W/"3": meta.version and the ETag header.</summary>
    public static string WeakETag(string version) => $"W/\"{version}\"";

    /// <summary>
    /// If-Match against a resource's version: absent or "*" passes; a listed tag passes when its opaque value is the
    /// version, weak or strong (RFC 7644 §3.14 hands out weak tags and expects them back in If-Match).
    /// </summary>
    public static bool IfMatchAllows(string? ifMatch, string version)
    {
        if (string.IsNullOrWhiteSpace(ifMatch))
        {
            return true;
        }

        if (!EntityTagHeaderValue.TryParseList([ifMatch], out var tags))
        {
            return false;
        }

        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Value == $"\"{version}\"");
    }

    /// <summary>
    /// Reads a SCIM request body: application/scim+json or application/json (any +json), at most
    /// <paramref name="maxBytes"/>, a JSON object. Errors are SCIM errors (413 tooLarge, 415, 400 invalidSyntax).
    /// </summary>
    public static async Task<(JsonObject? Body, ScimError? Error)> ReadBodyAsync(HttpContext http, int maxBytes)
    {
        var tooLarge = new ScimError(413, "tooLarge", $"The request body is larger than {maxBytes} bytes.");
        if (http.Request.ContentLength > maxBytes)
        {
            return (null, tooLarge);
        }

        var contentType = http.Request.ContentType;
        if (contentType is not null)
        {
            var mediaType = contentType.Split(';', 2)[0].Trim();
            if (!mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) && !mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
            {
                return (null, new ScimError(415, null, "The request body must be application/scim+json (or application/json)."));
            }
        }

        var buffer = new ArrayBufferWriter<byte>();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.WrittenCount + read > maxBytes)
                {
                    return (null, tooLarge);
                }

                buffer.Write(chunk.AsSpan(0, read));
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, tooLarge);
        }

        return Parse(buffer.WrittenMemory);
    }

    public static (JsonObject? Body, ScimError? Error) Parse(ReadOnlyMemory<byte> raw)
    {
        try
        {
            var node = JsonNode.Parse(raw.Span, documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
            return node is JsonObject body
                ? (body, null)
                : (null, ScimError.InvalidSyntax("The request body must be a JSON object."));
        }
        catch (JsonException)
        {
            return (null, ScimError.InvalidSyntax("The request body is not valid JSON."));
        }
    }

    public static string Timestamp(DateTime value) =>
        DateTime.SpecifyKind(value, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private sealed class ScimResult(ScimOutcome outcome) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            if (outcome.Error is { } error)
            {
                return WriteErrorAsync(http, error);
            }

            http.Response.StatusCode = outcome.Status;
            if (outcome.Version is not null)
            {
                http.Response.Headers.ETag = WeakETag(outcome.Version);
            }

            if (outcome.Location is not null)
            {
                http.Response.Headers.Location = outcome.Location;
            }

            if (outcome.Resource is null)
            {
                return Task.CompletedTask;
            }

            http.Response.ContentType = ContentType;
            return http.Response.WriteAsync(outcome.Resource.ToJsonString(Options), http.RequestAborted);
        }
    }
}

/// <summary>SCIM changes for the <c>scaikey.scim.operations</c> counter: one per successful create, replace, patch or delete, in a Bulk request too.</summary>
internal static class ScimOperationCount
{
    public static ScimOutcome Counted(this ScimOutcome outcome, Telemetry.ScaiKeyMetrics metrics, string endpoint, string method)
    {
        if (outcome.Error is null && method switch
            {
                "POST" => "create",
                "PUT" => "replace",
                "PATCH" => "patch",
                "DELETE" => "delete",
                _ => null,
            } is { } operation)
        {
            metrics.ScimOperation(endpoint.Trim('/') == "Users" ? "User" : "Group", operation);
        }

        return outcome;
    }
}
