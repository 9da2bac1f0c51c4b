using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.ApiReference;

/// <summary>
/// Renders one tag of an OpenAPI 3.1 document as the Markdown page published under
/// docs/reference/api. The layout is pinned byte for byte to shared/spec/users-api.md.
/// </summary>
internal static class ApiReferenceRenderer
{
    public const string RegenerateHint =
        "Generated from the live OpenAPI spec. Re-run `dotnet run --project tools/ScaiKey.ApiReference` after backend changes.";

    private const string AuthenticationText =
        "All endpoints require a Bearer JWT in the `Authorization` header unless noted otherwise. "
        + "See [Concepts → Tokens and scopes](/docs/scaikey/concepts/tokens-and-scopes) and "
        + "[Reference → OAuth endpoints](/docs/scaikey/reference/oauth-endpoints) for how to obtain one.";

    private const string SchemasIntro =
        "Definitions for every type referenced by the endpoints above. Schema-to-schema references on this page "
        + "link within the page; cross-page references would require visiting the linked page.";

    // The live API authenticates through a bearer security scheme, but the published page
    // documents it as an optional header parameter on the operations flagged with this extension.
    private const string AuthorizationExtension = "x-authorization-header";
    private const string AuthorizationRow = "| `authorization` | header | no | `string` \\| `null` |  |";

    private static readonly HashSet<string> HttpMethods =
        new(StringComparer.Ordinal) { "get", "put", "post", "delete", "options", "head", "patch", "trace" };

    public static string Render(
        JsonNode openApiDocument,
        string tag = "Users",
        string title = "Users API",
        string path = "reference/api/users")
    {
        ArgumentNullException.ThrowIfNull(openApiDocument);
        var document = openApiDocument as JsonObject
            ?? throw new ArgumentException("The OpenAPI document must be a JSON object.", nameof(openApiDocument));

        var operations = CollectOperations(document, tag);
        var schemaNames = CollectReachableSchemas(document, operations);

        // Every block is a paragraph, table or heading; the page is those blocks separated by one
        // blank line, which is the only spacing the reference ever uses.
        var blocks = new List<string>
        {
            $"---\ntitle: {title}\npath: {path}\nstatus: published\n---",
            $"# {title}",
            $"Reference for the `{tag}` endpoint group — {operations.Count} {(operations.Count == 1 ? "endpoint" : "endpoints")}.",
            RegenerateHint,
            "## Authentication",
            AuthenticationText,
            "## Endpoints",
        };

        foreach (var operation in operations)
        {
            AddOperation(blocks, document, operation);
        }

        if (schemaNames.Count > 0)
        {
            blocks.Add("## Schemas");
            blocks.Add(SchemasIntro);
            var components = document["components"]?["schemas"] as JsonObject;
            foreach (var name in schemaNames)
            {
                var schema = components?[name] as JsonObject
                    ?? throw new InvalidOperationException($"Schema '{name}' is referenced but not defined under components/schemas.");
                AddSchema(blocks, name, schema);
            }
        }

        return string.Join("\n\n", blocks) + "\n";
    }

    private static List<Operation> CollectOperations(JsonObject document, string tag)
    {
        var operations = new List<Operation>();
        if (document["paths"] is not JsonObject paths)
        {
            return operations;
        }

        foreach (var (path, item) in paths)
        {
            if (item is not JsonObject pathItem)
            {
                continue;
            }

            foreach (var (method, node) in pathItem)
            {
                if (HttpMethods.Contains(method) && node is JsonObject op && HasTag(op, tag))
                {
                    operations.Add(new Operation(path, method.ToUpperInvariant(), pathItem, op));
                }
            }
        }

        operations.Sort(static (a, b) =>
        {
            var byPath = string.CompareOrdinal(a.Path, b.Path);
            return byPath != 0 ? byPath : string.CompareOrdinal(a.Method, b.Method);
        });
        return operations;
    }

    private static bool HasTag(JsonObject operation, string tag) =>
        operation["tags"] is JsonArray tags
        && tags.Any(t => t is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == tag);

    private static void AddOperation(List<string> blocks, JsonObject document, Operation operation)
    {
        var op = operation.Node;
        blocks.Add($"### **{operation.Method}** `{operation.Path}`");

        var summary = StringOf(op["summary"]);
        if (!string.IsNullOrWhiteSpace(summary))
        {
            blocks.Add($"_{summary.Trim()}_");
        }

        var description = Paragraphs(StringOf(op["description"]));
        if (description.Length > 0)
        {
            blocks.Add(description);
        }

        var parameterRows = EffectiveParameters(document, operation)
            .Select(p => Row(
                $"`{StringOf(p["name"])}`",
                StringOf(p["in"]) ?? string.Empty,
                YesNo(p["required"]),
                SchemaText.Render(ParameterSchema(p)),
                Cell(StringOf(p["description"]))))
            .ToList();
        if (IsTrue(op[AuthorizationExtension]) && !HasAuthorizationHeader(document, operation))
        {
            parameterRows.Add(AuthorizationRow);
        }

        if (parameterRows.Count > 0)
        {
            blocks.Add("**Parameters:**");
            blocks.Add("| Name | In | Required | Type | Description |\n|---|---|---|---|---|\n" + string.Join("\n", parameterRows));
        }

        if (Resolve(document, op["requestBody"]) is JsonObject body)
        {
            blocks.Add("**Request body:**");

            // "Optional." keeps a line between the heading and the list, which both the page's
            // readers and contract-check.py's parser rely on; the reference only shows "Required.".
            blocks.Add(IsTrue(body["required"]) ? "Required." : "Optional.");

            // Only the first media type is listed: ASP.NET advertises several JSON aliases for the
            // same body, and contract-check.py compares the first one only.
            if (FirstMedia(body) is { } media)
            {
                blocks.Add($"- `{media.ContentType}` → {SchemaText.RenderBody(media.Media?["schema"])}");
            }
        }

        if (op["responses"] is JsonObject responses && responses.Count > 0)
        {
            var rows = responses.Select(r =>
            {
                var response = Resolve(document, r.Value) as JsonObject;
                var bodyText = response is not null && FirstMedia(response) is { } media
                    ? $"`{media.ContentType}` → {SchemaText.Render(media.Media?["schema"])}"
                    : Cell(StringOf(response?["description"]));
                return Row($"`{r.Key}`", bodyText);
            });
            blocks.Add("**Responses:**");
            blocks.Add("| Status | Body |\n|---|---|\n" + string.Join("\n", rows));
        }

        blocks.Add("---");
    }

    private static void AddSchema(List<string> blocks, string name, JsonObject schema)
    {
        blocks.Add($"### `{name}`");

        var description = Paragraphs(StringOf(schema["description"]));
        if (description.Length > 0)
        {
            blocks.Add(description);
        }

        if (schema["properties"] is JsonObject properties && properties.Count > 0)
        {
            var required = schema["required"] is JsonArray list
                ? list.Select(StringOf).OfType<string>().ToHashSet(StringComparer.Ordinal)
                : [];
            var rows = properties.Select(p => Row(
                $"`{p.Key}`",
                SchemaText.Render(p.Value),
                required.Contains(p.Key) ? "yes" : "no",
                FieldDescription(p.Value)));
            blocks.Add("| Field | Type | Required | Description |\n|---|---|---|---|\n" + string.Join("\n", rows));
        }
        else if (schema["enum"] is JsonArray values)
        {
            blocks.Add($"**Type:** {SchemaText.Render(schema)} (enum)");

            // A nullable enum lists null among its values; the type line already says `null`.
            var shown = values.Where(v => v is not null && v.GetValueKind() != JsonValueKind.Null);
            blocks.Add("**Values:** " + string.Join(", ", shown.Select(v => $"`{SchemaText.PythonText(v)}`")));
        }
        else
        {
            blocks.Add($"**Type:** {SchemaText.Render(schema)}");
        }
    }

    private static string FieldDescription(JsonNode? property)
    {
        if (property is not JsonObject p)
        {
            return string.Empty;
        }

        var description = StringOf(p["description"]);
        if (!string.IsNullOrWhiteSpace(description))
        {
            return Cell(description);
        }

        // A null default says nothing beyond the nullable type, so the reference leaves it out.
        return p.TryGetPropertyValue("default", out var value) && value is not null && value.GetValueKind() != JsonValueKind.Null
            ? Cell($"Default: `{SchemaText.PythonText(value)}`")
            : string.Empty;
    }

    /// <summary>Path-item parameters apply unless the operation redefines the same name and location.</summary>
    private static List<JsonObject> EffectiveParameters(JsonObject document, Operation operation)
    {
        var own = ResolvedParameters(document, operation.Node["parameters"]);
        var inherited = ResolvedParameters(document, operation.PathItem["parameters"])
            .Where(p => !own.Any(o => SameParameter(o, p)));
        return [.. inherited, .. own];
    }

    private static List<JsonObject> ResolvedParameters(JsonObject document, JsonNode? parameters) =>
        parameters is JsonArray list
            ? list.Select(p => Resolve(document, p)).OfType<JsonObject>().ToList()
            : [];

    private static bool SameParameter(JsonObject a, JsonObject b) =>
        StringOf(a["name"]) == StringOf(b["name"]) && StringOf(a["in"]) == StringOf(b["in"]);

    private static bool HasAuthorizationHeader(JsonObject document, Operation operation) =>
        EffectiveParameters(document, operation).Any(p =>
            StringOf(p["in"]) == "header"
            && string.Equals(StringOf(p["name"]), "authorization", StringComparison.OrdinalIgnoreCase));

    /// <summary>A parameter carries its schema either directly or inside a single media type.</summary>
    private static JsonNode? ParameterSchema(JsonObject parameter) =>
        parameter["schema"] ?? FirstMedia(parameter)?.Media?["schema"];

    private static (string ContentType, JsonObject? Media)? FirstMedia(JsonObject owner)
    {
        if (owner["content"] is JsonObject content && content.Count > 0)
        {
            var first = content.First();
            return (first.Key, first.Value as JsonObject);
        }

        return null;
    }

    /// <summary>
    /// Component schemas reachable from the operations' parameters, request bodies and responses,
    /// following references transitively (including through shared parameters/responses).
    /// </summary>
    private static SortedSet<string> CollectReachableSchemas(JsonObject document, List<Operation> operations)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var followed = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<JsonNode?>();

        foreach (var operation in operations)
        {
            pending.Push(operation.PathItem["parameters"]);
            pending.Push(operation.Node["parameters"]);
            pending.Push(operation.Node["requestBody"]);
            pending.Push(operation.Node["responses"]);
        }

        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case JsonArray array:
                    foreach (var item in array)
                    {
                        pending.Push(item);
                    }

                    break;

                case JsonObject obj:
                    foreach (var (key, value) in obj)
                    {
                        if (key == "$ref" && StringOf(value) is { } reference)
                        {
                            if (SchemaText.ComponentSchemaName(reference) is { } name)
                            {
                                found.Add(name);
                            }

                            // Following each target once also stops recursive schemas from looping.
                            if (followed.Add(reference))
                            {
                                pending.Push(ResolvePointer(document, reference));
                            }
                        }
                        else
                        {
                            pending.Push(value);
                        }
                    }

                    break;
            }
        }

        return found;
    }

    private static JsonNode? Resolve(JsonObject document, JsonNode? node)
    {
        // Chains of references are legal; the hop limit only guards against a reference cycle.
        for (var hops = 0; hops < 32 && node is JsonObject obj && StringOf(obj["$ref"]) is { } reference; hops++)
        {
            node = ResolvePointer(document, reference);
        }

        return node;
    }

    private static JsonNode? ResolvePointer(JsonObject document, string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }

        JsonNode? node = document;
        foreach (var token in reference[2..].Split('/'))
        {
            var key = token.Replace("~1", "/").Replace("~0", "~");
            node = node switch
            {
                JsonObject obj => obj[key],
                JsonArray array when int.TryParse(key, out var index) && index >= 0 && index < array.Count => array[index],
                _ => null,
            };
        }

        return node;
    }

    private static string Row(params string[] cells) => "| " + string.Join(" | ", cells) + " |";

    private static string YesNo(JsonNode? flag) => IsTrue(flag) ? "yes" : "no";

    private static bool IsTrue(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>Table cells are single-line, and a bare '|' would split the cell.</summary>
    private static string Cell(string? text) =>
        string.Join(' ', (text ?? string.Empty).Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>
    /// Free text between headings is kept verbatim (lists and blank lines included); only
    /// surrounding blank lines go, since blocks are already separated by exactly one.
    /// </summary>
    private static string Paragraphs(string? text) =>
        (text ?? string.Empty).Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd().TrimStart('\n');

    private sealed record Operation(string Path, string Method, JsonObject PathItem, JsonObject Node);
}
