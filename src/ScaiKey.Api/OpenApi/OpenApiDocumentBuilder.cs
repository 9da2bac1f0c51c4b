using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Patterns;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;

namespace ScaiKey.Api.OpenApi;

/// <summary>
/// Builds the OpenAPI 3.1 document from the endpoints' own metadata (routes, tags, summaries, the query
/// parameters they bind, the bodies they read, the responses they declare).
/// </summary>
internal sealed class OpenApiDocumentBuilder(EndpointDataSource endpoints)
{
    private JsonObject? _cached;

    public JsonObject Document => _cached ??= Build();

    private JsonObject Build()
    {
        var schemas = new SchemaGenerator();
        var paths = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            var tags = endpoint.Metadata.GetMetadata<ITagsMetadata>()?.Tags;
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods;
            if (tags is null || methods is null)
            {
                continue;
            }

            var path = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (!paths.TryGetValue(path, out var pathItem))
            {
                paths[path] = pathItem = new JsonObject();
            }

            foreach (var method in methods)
            {
                pathItem[method.ToLowerInvariant()] = Operation(endpoint, tags, schemas);
            }
        }

        var pathsNode = new JsonObject();
        foreach (var (path, item) in paths)
        {
            pathsNode[path] = item;
        }

        var componentSchemas = new JsonObject();
        foreach (var (name, schema) in schemas.Components)
        {
            componentSchemas[name] = schema;
        }

        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "ScaiKey API",
                ["version"] = "1.0.0",
                ["description"] = "Multi-tenant identity platform: directory (users, OUs, groups), tenancy and OAuth 2.0 / OpenID Connect.",
            },
            ["paths"] = pathsNode,
            ["components"] = new JsonObject
            {
                ["schemas"] = componentSchemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["bearer"] = new JsonObject
                    {
                        ["type"] = "http",
                        ["scheme"] = "bearer",
                        ["bearerFormat"] = "JWT",
                        ["description"] = "An access token from the token endpoint named in /.well-known/openid-configuration.",
                    },
                },
            },
        };
    }

    private static string ProblemDescription(int status) => status switch
    {
        409 => "Conflict with the current state or a uniqueness rule.",
        412 => "If-Match does not match the current ETag.",
        _ => Problems.DefaultDetail(status),
    };

    private static JsonObject Operation(RouteEndpoint endpoint, IReadOnlyList<string> tags, SchemaGenerator schemas)
    {
        var metadata = endpoint.Metadata;
        var operation = new JsonObject { ["tags"] = new JsonArray(tags.Select(t => (JsonNode)t!).ToArray()) };
        if (metadata.GetMetadata<IEndpointSummaryMetadata>() is { } summary)
        {
            operation["summary"] = summary.Summary;
        }

        if (metadata.GetMetadata<IEndpointDescriptionMetadata>() is { } description)
        {
            operation["description"] = description.Description;
        }

        if (metadata.GetMetadata<IEndpointNameMetadata>() is { } name)
        {
            operation["operationId"] = name.EndpointName;
        }

        var parameters = new JsonArray();
        foreach (var part in endpoint.RoutePattern.PathSegments.SelectMany(s => s.Parts).OfType<RoutePatternParameterPart>())
        {
            parameters.Add(new JsonObject
            {
                ["name"] = part.Name,
                ["in"] = "path",
                ["required"] = true,
                ["schema"] = new JsonObject { ["type"] = "string" },
            });
        }

        foreach (var query in metadata.GetOrderedMetadata<QueryParametersMetadata>().SelectMany(m => m.Parameters))
        {
            var parameter = new JsonObject { ["name"] = query.Name, ["in"] = "query", ["required"] = query.Required, ["schema"] = query.Schema() };
            if (query.Description is not null)
            {
                parameter["description"] = query.Description;
            }

            parameters.Add(parameter);
        }

        if (parameters.Count > 0)
        {
            operation["parameters"] = parameters;
        }

        var body = metadata.GetMetadata<RequestBodyMetadata>();
        if (body is not null)
        {
            operation["requestBody"] = new JsonObject
            {
                ["required"] = true,
                ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = schemas.Reference(body.Type) } },
            };
        }

        var responses = new JsonObject();
        foreach (var response in metadata.GetOrderedMetadata<ApiResponseMetadata>())
        {
            responses[response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = response.NoContent
                ? new JsonObject { ["description"] = "Successful Response" }
                : new JsonObject
                {
                    ["description"] = "Successful Response",
                    ["content"] = new JsonObject
                    {
                        ["application/json"] = new JsonObject { ["schema"] = response.Type is null ? new JsonObject() : schemas.Reference(response.Type) },
                    },
                };
        }

        if (parameters.Count > 0 || body is not null)
        {
            responses["422"] = new JsonObject
            {
                ["description"] = "Validation Error",
                ["content"] = new JsonObject
                {
                    ["application/json"] = new JsonObject { ["schema"] = schemas.Reference(typeof(HTTPValidationError)) },
                },
            };
        }

        var secured = metadata.GetMetadata<IAllowAnonymous>() is null;
        var problemStatuses = metadata.GetOrderedMetadata<ApiProblemsMetadata>().SelectMany(p => p.Statuses).ToList();
        if (secured)
        {
            problemStatuses.InsertRange(0, [401, 403]);
        }

        foreach (var status in problemStatuses.Distinct().Order())
        {
            responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["description"] = ProblemDescription(status),
                ["content"] = new JsonObject
                {
                    [Problems.ContentType] = new JsonObject { ["schema"] = schemas.Reference(typeof(ProblemResponse)) },
                },
            };
        }

        operation["responses"] = responses;
        if (secured)
        {
            operation["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() });
        }

        if (metadata.GetMetadata<AuthorizationHeaderDocumented>() is not null)
        {
            operation["x-authorization-header"] = true;
        }

        return operation;
    }
}
