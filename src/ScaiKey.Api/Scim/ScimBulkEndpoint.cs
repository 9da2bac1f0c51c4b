using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Data;

namespace ScaiKey.Api.Scim;

/// <summary>
/// POST /scim/v2/Bulk (RFC 7644 §3.7): operations run in order, each as its own request would (own transaction, own
/// audit events); bulkId references ("bulkId:x" in a path or anywhere in data) resolve to resources created earlier in
/// the same request; failOnErrors stops after that many errors. maxOperations and maxPayloadSize are enforced before
/// anything runs (413).
/// </summary>
internal static partial class ScimBulkEndpoint
{
    public static void MapBulk(RouteGroupBuilder scim) => scim.MapPost("/Bulk", BulkAsync);

    private sealed record Target(IScimResources Service, string Endpoint, string? Id);

    private static async Task<IResult> BulkAsync(
        HttpContext http, [FromServices] ScimUserService users, [FromServices] ScimGroupService groups, [FromServices] ScaiKeyDbContext db, [FromServices] IOptions<ScimOptions> options,
        [FromServices] Telemetry.ScaiKeyMetrics metrics, CancellationToken ct)
    {
        var limits = options.Value;
        var (body, error) = await ScimResults.ReadBodyAsync(http, limits.BulkMaxPayloadSize);
        if (body is null)
        {
            return ScimResults.Error(error!.Status == 413
                ? new ScimError(413, "tooLarge", $"The size of the bulk request exceeds maxPayloadSize ({limits.BulkMaxPayloadSize} bytes).")
                : error);
        }

        if (ScimJson.Get(body, "Operations") is not JsonArray operations || operations.Any(o => o is not JsonObject))
        {
            return ScimResults.Error(ScimError.InvalidSyntax("A BulkRequest needs Operations: an array of objects."));
        }

        if (operations.Count > limits.BulkMaxOperations)
        {
            return ScimResults.Error(new ScimError(413, "tooMany", $"The bulk request has {operations.Count} operations; maxOperations is {limits.BulkMaxOperations}."));
        }

        int? failOnErrors = null;
        if (ScimJson.Get(body, "failOnErrors") is { } failNode)
        {
            if (failNode is not JsonValue v || !v.TryGetValue<int>(out var n) || n < 1)
            {
                return ScimResults.Error(ScimError.InvalidValue("failOnErrors must be a positive integer."));
            }

            failOnErrors = n;
        }

        var request = ScimRequest.For(http);
        var created = new Dictionary<string, string>(StringComparer.Ordinal);
        var results = new JsonArray();
        var errors = 0;
        foreach (var operation in operations.Cast<JsonObject>())
        {
            if (failOnErrors is { } limit && errors >= limit)
            {
                break;
            }

            var (method, bulkId, outcome, target) = await RunAsync(operation, request, users, groups, created, ct);
            outcome.Counted(metrics, target?.Endpoint ?? string.Empty, method);

            // Whatever an operation left tracked (a refused change) must not be saved by the next one.
            db.ChangeTracker.Clear();
            var result = new JsonObject { ["method"] = method };
            if (bulkId is not null)
            {
                result["bulkId"] = bulkId;
            }

            if (outcome.Version is not null)
            {
                result["version"] = ScimResults.WeakETag(outcome.Version);
            }

            var id = outcome.Resource?["id"]?.GetValue<string>() ?? target?.Id;
            if (outcome.Error is null && id is not null && target is not null)
            {
                result["location"] = $"{request.BaseUrl}/{target.Endpoint}/{id}";
                if (bulkId is not null && method == "POST")
                {
                    created[bulkId] = id;
                }
            }

            result["status"] = outcome.Status.ToString(CultureInfo.InvariantCulture);
            if (outcome.Error is { } failure)
            {
                errors++;
                result["response"] = ScimResults.ErrorBody(failure);
            }

            results.Add(result);
        }

        return ScimResults.Json(new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.BulkResponse),
            ["Operations"] = results,
        });
    }

    private static async Task<(string Method, string? BulkId, ScimOutcome Outcome, Target? Target)> RunAsync(
        JsonObject operation, ScimRequest request, ScimUserService users, ScimGroupService groups, Dictionary<string, string> created, CancellationToken ct)
    {
        ScimJson.TryString(ScimJson.Get(operation, "method"), out var methodText);
        var method = methodText?.ToUpperInvariant() ?? string.Empty;
        ScimJson.TryString(ScimJson.Get(operation, "bulkId"), out var bulkId);
        ScimJson.TryString(ScimJson.Get(operation, "version"), out var version);
        if (method == "POST" && string.IsNullOrEmpty(bulkId))
        {
            return (method, bulkId, ScimOutcome.Fail(ScimError.InvalidValue("A POST operation needs a bulkId.")), null);
        }

        if (!ScimJson.TryString(ScimJson.Get(operation, "path"), out var path) || path is null
            || Resolve(path, created) is not { } resolvedPath)
        {
            return (method, bulkId, ScimOutcome.Fail(ScimError.InvalidValue(path is null
                ? "Each operation needs a path such as /Users or /Groups/{id}."
                : "The path refers to a bulkId that no earlier operation of this request created.")), null);
        }

        var match = PathPattern().Match(resolvedPath);
        if (!match.Success)
        {
            return (method, bulkId, ScimOutcome.Fail(ScimError.InvalidPath($"Unsupported bulk path {resolvedPath}: use /Users, /Groups, /Users/{{id}} or /Groups/{{id}}.")), null);
        }

        var endpoint = string.Equals(match.Groups["type"].Value, "Users", StringComparison.OrdinalIgnoreCase) ? "Users" : "Groups";
        IScimResources service = endpoint == "Users" ? users : groups;
        var id = match.Groups["id"].Success ? match.Groups["id"].Value : null;
        var target = new Target(service, endpoint, id);
        JsonObject? data = null;
        if (method is "POST" or "PUT" or "PATCH")
        {
            if (ScimJson.Get(operation, "data") is not JsonObject raw)
            {
                return (method, bulkId, ScimOutcome.Fail(ScimError.InvalidSyntax($"A {method} operation needs data: an object.")), target);
            }

            if (ResolveData(raw.DeepClone(), created) is not JsonObject resolved)
            {
                return (method, bulkId, ScimOutcome.Fail(new ScimError(409, null, "data refers to a bulkId that no earlier operation of this request created.")), target);
            }

            data = resolved;
        }

        var outcome = (method, id) switch
        {
            ("POST", null) => await service.CreateAsync(request, data!, ct),
            ("PUT", not null) => await service.ReplaceAsync(request, id, data!, version, ct),
            ("PATCH", not null) => await service.PatchAsync(request, id, data!, version, ct),
            ("DELETE", not null) => await service.DeleteAsync(request, id, version, ct),
            _ => ScimOutcome.Fail(ScimError.InvalidValue($"{(method.Length == 0 ? "A missing method" : method)} is not an operation on {resolvedPath}.")),
        };
        return (method, bulkId, outcome, target);
    }

    private static string? Resolve(string text, Dictionary<string, string> created)
    {
        var unresolved = false;
        var result = BulkIdPattern().Replace(text, m =>
        {
            if (created.TryGetValue(m.Groups["id"].Value, out var id))
            {
                return id;
            }

            unresolved = true;
            return m.Value;
        });
        return unresolved ? null : result;
    }

    /// <summary>Every string value "bulkId:x" in data becomes the id created for x; null when one is unknown.</summary>
    private static JsonNode? ResolveData(JsonNode? node, Dictionary<string, string> created)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    var value = obj[key];
                    if (value is null)
                    {
                        continue;
                    }

                    var resolved = ResolveData(value, created);
                    if (resolved is null)
                    {
                        return null;
                    }

                    if (!ReferenceEquals(resolved, value))
                    {
                        obj[key] = resolved;
                    }
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is { } item)
                    {
                        var resolved = ResolveData(item, created);
                        if (resolved is null)
                        {
                            return null;
                        }

                        if (!ReferenceEquals(resolved, item))
                        {
                            array[i] = resolved;
                        }
                    }
                }

                return array;
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String
                && value.GetValue<string>() is { } text && text.StartsWith("bulkId:", StringComparison.Ordinal):
                return created.TryGetValue(text["bulkId:".Length..], out var id) ? JsonValue.Create(id) : null;
            default:
                return node;
        }
    }

    [GeneratedRegex(@"bulkId:(?<id>[A-Za-z0-9._~-]+)")]
    private static partial Regex BulkIdPattern();

    [GeneratedRegex(@"^/(?<type>Users|Groups)(/(?<id>[^/?#]+))?$", RegexOptions.IgnoreCase)]
    private static partial Regex PathPattern();
}
