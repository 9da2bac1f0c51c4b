using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace ScaiKey.Api.OpenApi;

internal static class OpenApiEndpoints
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IEndpointRouteBuilder MapOpenApiDocuments(this IEndpointRouteBuilder app)
    {
        app.MapGet("/openapi.json", ([FromServices] OpenApiDocumentBuilder builder) =>
            TypedResults.Text(builder.Document.ToJsonString(Indented), "application/json", Encoding.UTF8))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/docs", ([FromServices] OpenApiDocumentBuilder builder) => TypedResults.Content(RenderHtml(builder.Document), "text/html; charset=utf-8"))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>A self-contained page (no scripts, no CDN) listing every operation and schema of the document.</summary>
    private static string RenderHtml(JsonObject document)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);
        static string TypeOf(JsonNode? schema)
        {
            if (schema is not JsonObject s)
            {
                return "any";
            }

            if (s["$ref"] is { } r)
            {
                var name = r.GetValue<string>().Split('/')[^1];
                return $"<a href=\"#schema-{E(name)}\">{E(name)}</a>";
            }

            if (s["anyOf"] is JsonArray any)
            {
                return string.Join(" | ", any.Select(TypeOf));
            }

            return s["type"]?.GetValue<string>() switch
            {
                "array" => "array of " + TypeOf(s["items"]),
                null => "any",
                var t => E(t) + (s["format"] is { } f ? $" ({E(f.GetValue<string>())})" : string.Empty),
            };
        }

        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ScaiKey API</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}")
            .Append("code{background:#f3f3f3;padding:0 .2rem}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}")
            .Append("h3{margin-top:2rem}.m{font-weight:bold;text-transform:uppercase}</style></head><body>")
            .Append("<h1>ScaiKey API</h1><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. Tokens: <a href=\"/.well-known/openid-configuration\">OpenID configuration</a>.</p>");
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, op) in item!.AsObject())
            {
                html.Append($"<h3><span class=\"m\">{E(method)}</span> <code>{E(path)}</code></h3><p><em>{E(op!["summary"]?.GetValue<string>())}</em></p>");
                if (op["description"] is { } d)
                {
                    html.Append($"<p>{E(d.GetValue<string>()).Replace("\n", "<br>", StringComparison.Ordinal)}</p>");
                }

                if (op["parameters"] is JsonArray ps)
                {
                    html.Append("<table><tr><th>Name</th><th>In</th><th>Required</th><th>Type</th></tr>");
                    foreach (var p in ps)
                    {
                        html.Append($"<tr><td><code>{E(p!["name"]!.GetValue<string>())}</code></td><td>{E(p["in"]!.GetValue<string>())}</td><td>{(p["required"]!.GetValue<bool>() ? "yes" : "no")}</td><td>{TypeOf(p["schema"])}</td></tr>");
                    }

                    html.Append("</table>");
                }

                if (op["requestBody"]?["content"]?["application/json"]?["schema"] is { } body)
                {
                    html.Append($"<p>Body: {TypeOf(body)}</p>");
                }

                html.Append("<table><tr><th>Status</th><th>Body</th></tr>");
                foreach (var (status, response) in op["responses"]!.AsObject())
                {
                    var content = response!["content"]?.AsObject().FirstOrDefault();
                    html.Append($"<tr><td>{E(status)}</td><td>{(content is { Value: { } c } ? TypeOf(c["schema"]) : E(response["description"]?.GetValue<string>()))}</td></tr>");
                }

                html.Append("</table>");
            }
        }

        html.Append("<h2>Schemas</h2>");
        foreach (var (name, schema) in document["components"]!["schemas"]!.AsObject())
        {
            html.Append($"<h3 id=\"schema-{E(name)}\"><code>{E(name)}</code></h3><p>{E(schema!["description"]?.GetValue<string>())}</p>");
            if (schema["enum"] is JsonArray values)
            {
                html.Append("<p>One of: ").Append(string.Join(", ", values.Select(v => $"<code>{E(v!.GetValue<string>())}</code>"))).Append("</p>");
            }
            else if (schema["properties"] is JsonObject properties)
            {
                var required = schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
                html.Append("<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Default</th></tr>");
                foreach (var (field, fieldSchema) in properties)
                {
                    html.Append($"<tr><td><code>{E(field)}</code></td><td>{TypeOf(fieldSchema)}</td><td>{(required.Contains(field) ? "yes" : "no")}</td><td>{E(fieldSchema?["default"]?.ToJsonString())}</td></tr>");
                }

                html.Append("</table>");
            }
        }

        return html.Append("</body></html>").ToString();
    }
}
