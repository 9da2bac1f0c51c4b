using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Scim;

/// <summary>/ServiceProviderConfig, /ResourceTypes and /Schemas (RFC 7644 §4, RFC 7643 §5-§7).</summary>
internal static class ScimDiscoveryEndpoints
{
    public static void MapDiscovery(RouteGroupBuilder scim)
    {
        scim.MapGet("/ServiceProviderConfig", (HttpContext http, [FromServices] IOptions<ScimOptions> options) =>
            ScimResults.Json(ServiceProviderConfig(ScimRequest.For(http).BaseUrl, options.Value)));
        scim.MapGet("/ResourceTypes", (HttpContext http) =>
        {
            var baseUrl = ScimRequest.For(http).BaseUrl;
            var types = new JsonArray(Types.Select(t => (JsonNode)ResourceType(t, baseUrl)).ToArray());
            return ScimResults.Json(ScimLists.Response(types.Count, 1, types));
        });
        scim.MapGet("/ResourceTypes/{name}", (string name, HttpContext http) =>
            Types.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)) is { } type
                ? ScimResults.Json(ResourceType(type, ScimRequest.For(http).BaseUrl))
                : ScimResults.Error(new ScimError(404, null, "Resource type not found.")));
        scim.MapGet("/Schemas", (HttpContext http) =>
        {
            var baseUrl = ScimRequest.For(http).BaseUrl;
            var schemas = new JsonArray(ScimSchemas.All.Select(s => (JsonNode)Schema(s, baseUrl)).ToArray());
            return ScimResults.Json(ScimLists.Response(schemas.Count, 1, schemas));
        });
        scim.MapGet("/Schemas/{id}", (string id, HttpContext http) =>
            ScimSchemas.All.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase)) is { } schema
                ? ScimResults.Json(Schema(schema, ScimRequest.For(http).BaseUrl))
                : ScimResults.Error(new ScimError(404, null, "Schema not found.")));
    }

    private static IEnumerable<ScimResourceType> Types => [ScimSchemas.UserType, ScimSchemas.GroupType];

    public static JsonObject ServiceProviderConfig(string baseUrl, ScimOptions options) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.ServiceProviderConfig),
        ["documentationUri"] = "https://github.com/scaikey/scaikey/blob/main/README.md#scim",
        ["patch"] = new JsonObject { ["supported"] = true },
        ["bulk"] = new JsonObject { ["supported"] = true, ["maxOperations"] = options.BulkMaxOperations, ["maxPayloadSize"] = options.BulkMaxPayloadSize },
        ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = options.MaxResults },
        ["changePassword"] = new JsonObject { ["supported"] = false },
        ["sort"] = new JsonObject { ["supported"] = true },
        ["etag"] = new JsonObject { ["supported"] = true },
        ["authenticationSchemes"] = new JsonArray(new JsonObject
        {
            ["type"] = "oauthbearertoken",
            ["name"] = "OAuth Bearer Token",
            ["description"] = "A SCIM provisioning token (scim_...) created by a tenant admin at /api/v1/tenants/{tenant_id}/scim/tokens.",
            ["primary"] = true,
        }),
        ["meta"] = new JsonObject
        {
            ["resourceType"] = "ServiceProviderConfig",
            ["location"] = baseUrl + "/ServiceProviderConfig",
        },
    };

    private static JsonObject ResourceType(ScimResourceType type, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.ResourceType),
        ["id"] = type.Name,
        ["name"] = type.Name,
        ["endpoint"] = type.Endpoint,
        ["description"] = type.Description,
        ["schema"] = type.Schema.Id,
        ["schemaExtensions"] = new JsonArray(type.Extensions.Select(e => (JsonNode)new JsonObject { ["schema"] = e.Id, ["required"] = false }).ToArray()),
        ["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = $"{baseUrl}/ResourceTypes/{type.Name}" },
    };

    private static JsonObject Schema(ScimSchema schema, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.Schema),
        ["id"] = schema.Id,
        ["name"] = schema.Name,
        ["description"] = schema.Description,
        ["attributes"] = new JsonArray(schema.Attributes.Select(a => (JsonNode)Attribute(a)).ToArray()),
        ["meta"] = new JsonObject { ["resourceType"] = "Schema", ["location"] = $"{baseUrl}/Schemas/{schema.Id}" },
    };

    private static JsonObject Attribute(ScimAttribute a)
    {
        var node = new JsonObject
        {
            ["name"] = a.Name,
            ["type"] = a.Type == ScimAttributeType.DateTime ? "dateTime" : a.Type.ToString().ToLowerInvariant(),
            ["multiValued"] = a.MultiValued,
            ["description"] = a.Description,
            ["required"] = a.Required,
            ["caseExact"] = a.CaseExact,
            ["mutability"] = Camel(a.Mutability.ToString()),
            ["returned"] = a.Returned.ToString().ToLowerInvariant(),
            ["uniqueness"] = a.Uniqueness,
        };
        if (a.SubAttributes is { Count: > 0 } subs)
        {
            node["subAttributes"] = new JsonArray(subs.Select(s => (JsonNode)Attribute(s)).ToArray());
        }

        if (a.CanonicalValues is { Count: > 0 } values)
        {
            node["canonicalValues"] = new JsonArray(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
        }

        if (a.ReferenceTypes is { Count: > 0 } refs)
        {
            node["referenceTypes"] = new JsonArray(refs.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
        }

        return node;
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
