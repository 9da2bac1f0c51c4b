using System.Text;
using System.Text.RegularExpressions;

namespace ScaiKey.Api.Tests.Contract;

/// <summary>
/// The Users API reference (reference/spec/users-api.md, a copy of the seed's) as a contract, checked against a
/// live OpenAPI document: every endpoint, parameter, request body, response and schema field of the reference must
/// be present with the same rendering. The project's own port of the seed's contract-check.py (reference/tools,
/// kept for the record), so the check needs nothing but .NET.
/// </summary>
public static partial class ReferenceContract
{
    public sealed record Result(int Checks, IReadOnlyList<string> Problems)
    {
        public string Summary => $"contract: {Checks - Problems.Count}/{Checks} seed checks hold";
    }

    private sealed record Param(bool Required, string Type);

    private sealed record Body(bool Required, string? Content, string Type);

    private sealed class Endpoint
    {
        public required string Method { get; init; }
        public required string Path { get; init; }
        public Dictionary<(string In, string Name), Param> Params { get; } = [];
        public Body? Body { get; set; }
        public Dictionary<string, string> Responses { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Field(string Type, bool Required);

    private sealed class Schema
    {
        public List<string>? Enum { get; set; }
        public Dictionary<string, Field> Fields { get; } = new(StringComparer.Ordinal);
    }

    public static Result Compare(string referenceMarkdown, JsonNode document)
    {
        var (reference, referenceSchemas) = ParseReference(referenceMarkdown.ReplaceLineEndings("\n"));
        var (live, liveSchemas) = LiveContract(document);
        var problems = new List<string>();
        var checks = 0;
        foreach (var ep in reference)
        {
            checks++;
            if (!live.TryGetValue((ep.Method, ep.Path), out var found))
            {
                found = live.Where(l => l.Key.Method == ep.Method && l.Key.Path.TrimEnd('/') == ep.Path.TrimEnd('/')).Select(l => l.Value).FirstOrDefault();
            }

            if (found is null)
            {
                problems.Add($"missing endpoint {ep.Method.ToUpperInvariant()} {ep.Path}");
                continue;
            }

            var name = $"{ep.Method.ToUpperInvariant()} {ep.Path}";
            foreach (var ((pin, pname), want) in ep.Params)
            {
                if (pin == "header" && pname == "authorization")
                {
                    continue; // bearer auth is a security scheme here, not a parameter
                }

                checks++;
                if (!found.Params.TryGetValue((pin, pname), out var got))
                {
                    problems.Add($"{name}: missing {pin} parameter {pname}");
                }
                else if (got.Required != want.Required)
                {
                    problems.Add($"{name}: {pin} {pname} required={got.Required} want {want.Required}");
                }
                else if (got.Type != want.Type)
                {
                    problems.Add($"{name}: {pin} {pname} type {got.Type} want {want.Type}");
                }
            }

            if (ep.Body is { } body)
            {
                checks++;
                if (found.Body is not { } gotBody)
                {
                    problems.Add($"{name}: no request body");
                }
                else if (gotBody.Type != body.Type && !(body.Type == "object" && gotBody.Type.StartsWith('[')))
                {
                    problems.Add($"{name}: body type {gotBody.Type} want {body.Type}");
                }
                else if (gotBody.Required != body.Required)
                {
                    problems.Add($"{name}: body required={gotBody.Required}");
                }
            }

            foreach (var (code, want) in ep.Responses)
            {
                checks++;
                if (!found.Responses.TryGetValue(code, out var got))
                {
                    problems.Add($"{name}: no {code} response");
                }
                else if (!want.Contains("→ _any_", StringComparison.Ordinal) && got != want && code != "204")
                {
                    problems.Add($"{name}: {code} is {got} want {want}");
                }
            }
        }

        foreach (var (schemaName, schema) in referenceSchemas)
        {
            checks++;
            if (!liveSchemas.TryGetValue(schemaName, out var got))
            {
                problems.Add($"missing schema {schemaName}");
                continue;
            }

            if (schema.Enum is { Count: > 0 } values
                && !(got.Enum ?? []).Order(StringComparer.Ordinal).SequenceEqual(values.Order(StringComparer.Ordinal)))
            {
                problems.Add($"schema {schemaName}: enum [{string.Join(", ", got.Enum ?? [])}] want [{string.Join(", ", values)}]");
            }

            foreach (var (fieldName, want) in schema.Fields)
            {
                checks++;
                if (!got.Fields.TryGetValue(fieldName, out var field))
                {
                    problems.Add($"schema {schemaName}: missing field {fieldName}");
                }
                else if (field.Type != want.Type)
                {
                    problems.Add($"schema {schemaName}.{fieldName}: type {field.Type} want {want.Type}");
                }
                else if (field.Required != want.Required)
                {
                    problems.Add($"schema {schemaName}.{fieldName}: required={field.Required} want {want.Required}");
                }
            }
        }

        return new Result(checks, problems);
    }

    // ---- the reference (markdown) ----

    private static (List<Endpoint> Endpoints, Dictionary<string, Schema> Schemas) ParseReference(string text)
    {
        var endpoints = new List<Endpoint>();
        var schemas = new Dictionary<string, Schema>(StringComparer.Ordinal);
        var split = text.IndexOf("\n## Schemas\n", StringComparison.Ordinal);
        var endpointText = split < 0 ? text : text[..split];
        var schemaText = split < 0 ? string.Empty : text[(split + "\n## Schemas\n".Length)..];
        foreach (var block in endpointText.Split("\n### ").Skip(1))
        {
            var head = EndpointHead().Match(block);
            if (!head.Success)
            {
                continue;
            }

            var ep = new Endpoint { Method = head.Groups[1].Value.ToLowerInvariant(), Path = head.Groups[2].Value };
            if (ParametersTable().Match(block) is { Success: true } parameters)
            {
                foreach (var row in parameters.Groups[1].Value.Split('\n').Skip(2))
                {
                    var cells = SplitRow(row);
                    ep.Params[(cells[1], cells[0].Trim('`'))] = new Param(cells[2] == "yes", cells[3]);
                }
            }

            if (RequestBody().Match(block) is { Success: true } body)
            {
                ep.Body = new Body(body.Groups[1].Value.Trim() == "Required.", body.Groups[2].Value, body.Groups[3].Value.Trim());
            }

            if (ResponsesTable().Match(block) is { Success: true } responses)
            {
                foreach (var row in responses.Groups[1].Value.Split('\n').Skip(2))
                {
                    var cells = SplitRow(row);
                    ep.Responses[cells[0].Trim('`')] = cells[1];
                }
            }

            endpoints.Add(ep);
        }

        foreach (var block in schemaText.Split("\n### ").Skip(1))
        {
            var name = SchemaName().Match(block).Groups[1].Value;
            var schema = new Schema();
            if (EnumValues().Match(block) is { Success: true } values)
            {
                schema.Enum = values.Groups[1].Value.Split(',').Select(v => v.Trim().Trim('`')).ToList();
            }

            if (FieldsTable().Match(block) is { Success: true } fields)
            {
                foreach (var row in fields.Groups[1].Value.Split('\n'))
                {
                    var cells = SplitRow(row);
                    schema.Fields[cells[0].Trim('`')] = new Field(cells[1], cells[2] == "yes");
                }
            }

            schemas[name] = schema;
        }

        return (endpoints, schemas);
    }

    /// <summary>A table row's cells; an escaped pipe (\|) stays inside its cell, escaped.</summary>
    private static List<string> SplitRow(string row)
    {
        row = row.Trim().Trim('|');
        var cells = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < row.Length; i++)
        {
            if (row[i] == '\\' && i + 1 < row.Length && row[i + 1] == '|')
            {
                current.Append("\\|");
                i++;
            }
            else if (row[i] == '|')
            {
                cells.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(row[i]);
            }
        }

        cells.Add(current.ToString().Trim());
        return cells;
    }

    // ---- the live document, rendered the way the reference renders types ----

    private static (Dictionary<(string Method, string Path), Endpoint> Endpoints, Dictionary<string, Schema> Schemas) LiveContract(JsonNode document)
    {
        var endpoints = new Dictionary<(string, string), Endpoint>();
        foreach (var (path, operations) in document["paths"]?.AsObject() ?? [])
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                if (method is not ("get" or "post" or "put" or "patch" or "delete") || operation is null)
                {
                    continue;
                }

                var ep = new Endpoint { Method = method, Path = path };
                foreach (var item in operation["parameters"]?.AsArray() ?? [])
                {
                    var parameter = Resolve(document, item!);
                    ep.Params[(parameter["in"]!.GetValue<string>(), parameter["name"]!.GetValue<string>())] =
                        new Param(parameter["required"]?.GetValue<bool>() ?? false, Render(parameter["schema"]));
                }

                if (operation["requestBody"] is { } requestBody)
                {
                    var resolved = Resolve(document, requestBody);
                    var content = resolved["content"]?.AsObject().FirstOrDefault();
                    ep.Body = new Body(resolved["required"]?.GetValue<bool>() ?? false, content?.Key, RenderBodyType(content?.Value?["schema"]));
                }

                foreach (var (code, response) in operation["responses"]?.AsObject() ?? [])
                {
                    var resolved = Resolve(document, response!);
                    var content = resolved["content"]?.AsObject();
                    if (content is null || content.Count == 0)
                    {
                        ep.Responses[code] = resolved["description"]?.GetValue<string>() ?? string.Empty;
                    }
                    else
                    {
                        var first = content.First();
                        ep.Responses[code] = $"`{first.Key}` → " + Render(first.Value?["schema"]);
                    }
                }

                endpoints[(method, path)] = ep;
            }
        }

        var schemas = new Dictionary<string, Schema>(StringComparer.Ordinal);
        foreach (var (name, node) in document["components"]?["schemas"]?.AsObject() ?? [])
        {
            var schema = new Schema();
            if (node!["enum"] is JsonArray values)
            {
                schema.Enum = values.Where(v => v is not null).Select(v => v!.ToString()).ToList();
            }

            var required = node["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
            foreach (var (field, fieldSchema) in node["properties"]?.AsObject() ?? [])
            {
                schema.Fields[field] = new Field(Render(fieldSchema), required.Contains(field));
            }

            schemas[name] = schema;
        }

        return (endpoints, schemas);
    }

    private static JsonNode Resolve(JsonNode document, JsonNode node)
    {
        if (node["$ref"]?.GetValue<string>() is not { } reference)
        {
            return node;
        }

        var target = document;
        foreach (var part in reference.TrimStart('#', '/').Split('/'))
        {
            target = target[part]!;
        }

        return target;
    }

    private static string Anchor(string name) => "schema-" + NonAlphanumeric().Replace(name.ToLowerInvariant(), "-").Trim('-');

    private static string RefLink(string reference)
    {
        var name = reference.Split('/')[^1];
        return $"[`{name}`](#{Anchor(name)})";
    }

    /// <summary>A JSON schema as the reference writes it (contract-check.py's render).</summary>
    private static string Render(JsonNode? schema)
    {
        if (schema is not JsonObject s)
        {
            return "_any_";
        }

        if (s["$ref"]?.GetValue<string>() is { } reference)
        {
            return RefLink(reference);
        }

        foreach (var key in new[] { "anyOf", "oneOf" })
        {
            if (s[key] is JsonArray options)
            {
                return string.Join(" \\| ", options.Select(Render));
            }
        }

        var type = s["type"];
        if (type is JsonArray types)
        {
            return string.Join(" \\| ", types.Select(t =>
            {
                var copy = s.DeepClone().AsObject();
                copy["type"] = t!.DeepClone();
                return Render(copy);
            }));
        }

        var name = type?.GetValue<string>();
        if (name == "array")
        {
            return "array of " + Render(s["items"]);
        }

        if (name == "object" || (name is null && s.ContainsKey("properties")))
        {
            return "object";
        }

        if (name is null)
        {
            return "_any_";
        }

        return s["format"]?.GetValue<string>() is { Length: > 0 } format && name == "string" ? $"`{name}` (`{format}`)" : $"`{name}`";
    }

    private static string RenderBodyType(JsonNode? schema)
    {
        if (schema is not JsonObject s || s.Count == 0)
        {
            return "_any_";
        }

        if (s["$ref"]?.GetValue<string>() is { } reference)
        {
            return RefLink(reference);
        }

        return s["type"]?.GetValue<string>() == "object" || s.ContainsKey("additionalProperties") ? "object" : Render(s);
    }

    [GeneratedRegex(@"^\*\*(\w+)\*\* `([^`]+)`")]
    private static partial Regex EndpointHead();

    [GeneratedRegex(@"\*\*Parameters:\*\*\n\n(.*?)\n\n", RegexOptions.Singleline)]
    private static partial Regex ParametersTable();

    [GeneratedRegex(@"\*\*Request body:\*\*\n\n(.*?)\n\n- `([^`]+)` → (.*?)\n", RegexOptions.Singleline)]
    private static partial Regex RequestBody();

    [GeneratedRegex(@"\*\*Responses:\*\*\n\n(.*?)(\n\n|$)", RegexOptions.Singleline)]
    private static partial Regex ResponsesTable();

    [GeneratedRegex(@"^`([^`]+)`")]
    private static partial Regex SchemaName();

    [GeneratedRegex(@"\*\*Values:\*\* (.*)")]
    private static partial Regex EnumValues();

    [GeneratedRegex(@"\| Field \| Type \| Required \| Description \|\n\|[-|]+\|\n(.*?)(\n\n|$)", RegexOptions.Singleline)]
    private static partial Regex FieldsTable();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlphanumeric();
}
