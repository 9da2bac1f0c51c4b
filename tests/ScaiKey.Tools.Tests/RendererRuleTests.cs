using System.Text.Json.Nodes;
using ScaiKey.ApiReference;

namespace ScaiKey.Tools.Tests;

/// <summary>Rules the Users fixture cannot exercise on its own (other tags, other schema shapes).</summary>
public sealed class RendererRuleTests
{
    [Fact]
    public void Only_tagged_operations_are_rendered_sorted_by_path_then_method()
    {
        var page = Render("""
            {
              "openapi": "3.1.1",
              "paths": {
                "/b": { "put": { "tags": ["Users"] }, "delete": { "tags": ["Users"] }, "get": { "tags": ["Groups"] } },
                "/a/{id}": { "post": { "tags": ["Users"] } },
                "/a/x": { "patch": { "tags": ["Users", "Admin"] } }
              }
            }
            """);

        string[] headings = [.. page.Split('\n').Where(l => l.StartsWith("### ", StringComparison.Ordinal))];
        Assert.Equal(["### **PATCH** `/a/x`", "### **POST** `/a/{id}`", "### **DELETE** `/b`", "### **PUT** `/b`"], headings);
        Assert.Contains("Reference for the `Users` endpoint group — 4 endpoints.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("## Schemas", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Schemas_are_the_transitive_closure_of_what_tagged_operations_reference()
    {
        var page = Render("""
            {
              "openapi": "3.1.1",
              "paths": {
                "/users": {
                  "get": {
                    "tags": ["Users"],
                    "parameters": [{ "$ref": "#/components/parameters/Filter" }],
                    "responses": { "200": { "$ref": "#/components/responses/UserPage" } }
                  }
                },
                "/groups": {
                  "get": {
                    "tags": ["Groups"],
                    "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Group" } } } } }
                  }
                }
              },
              "components": {
                "parameters": {
                  "Filter": { "name": "filter", "in": "query", "schema": { "$ref": "#/components/schemas/Filter" } }
                },
                "responses": {
                  "UserPage": { "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Page" } } } }
                },
                "schemas": {
                  "Page": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Node" } } } },
                  "Node": { "type": "object", "properties": { "children": { "type": "array", "items": { "$ref": "#/components/schemas/Node" } } } },
                  "Filter": { "type": "string", "enum": ["a", "b"] },
                  "Group": { "type": "object", "properties": { "name": { "type": "string" } } }
                }
              }
            }
            """);

        string[] schemaHeadings = [.. page[page.IndexOf("## Schemas", StringComparison.Ordinal)..]
            .Split('\n').Where(l => l.StartsWith("### ", StringComparison.Ordinal))];
        Assert.Equal(["### `Filter`", "### `Node`", "### `Page`"], schemaHeadings);
        Assert.Contains("| `filter` | query | no | [`Filter`](#schema-filter) |  |", page, StringComparison.Ordinal);
        Assert.Contains("| `200` | `application/json` → [`Page`](#schema-page) |", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "type": ["string", "null"], "format": "date-time" }""", "`string` (`date-time`) \\| `null`")]
    [InlineData("""{ "anyOf": [{ "type": "null" }, { "type": "integer", "format": "int32" }] }""", "`null` \\| `integer`")]
    [InlineData("""{ "type": ["array", "null"], "items": { "$ref": "#/components/schemas/Pet_Info_" } }""", "array of [`Pet_Info_`](#schema-pet-info) \\| `null`")]
    [InlineData("""{ "oneOf": [{ "type": "object", "additionalProperties": true }, { "type": "null" }] }""", "object \\| `null`")]
    [InlineData("""{ "properties": { "a": { "type": "string" } } }""", "object")]
    [InlineData("""{ "type": "array" }""", "array of _any_")]
    [InlineData("""{}""", "_any_")]
    public void Types_render_like_contract_check(string schema, string expected)
    {
        Assert.Equal(expected, SchemaText.Render(JsonNode.Parse(schema)));
    }

    [Theory]
    [InlineData("""{ "type": "boolean", "default": true }""", "Default: `True`")]
    [InlineData("""{ "type": "boolean", "default": false }""", "Default: `False`")]
    [InlineData("""{ "type": "string", "default": "en" }""", "Default: `en`")]
    [InlineData("""{ "type": "string", "default": "" }""", "Default: `''`")]
    [InlineData("""{ "type": "integer", "default": 20 }""", "Default: `20`")]
    [InlineData("""{ "type": "array", "default": ["a", "b"] }""", "Default: `['a', 'b']`")]
    [InlineData("""{ "type": ["string", "null"], "default": null }""", "")]
    [InlineData("""{ "type": "string", "default": "x", "description": "Wins over | the default" }""", "Wins over \\| the default")]
    public void Field_descriptions_fall_back_to_python_style_defaults(string property, string expected)
    {
        var page = Render($$"""
            {
              "openapi": "3.1.1",
              "paths": { "/t": { "post": { "tags": ["Users"], "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/T" } } } } } } },
              "components": { "schemas": { "T": { "type": "object", "properties": { "f": {{property}} } } } }
            }
            """);

        var row = page.Split('\n').Single(l => l.StartsWith("| `f` |", StringComparison.Ordinal));
        Assert.EndsWith($"| no | {expected} |", row, StringComparison.Ordinal);
    }

    [Fact]
    public void Authorization_row_follows_the_extension_and_empty_sections_are_omitted()
    {
        var page = Render("""
            {
              "openapi": "3.1.1",
              "security": [{ "Bearer": [] }],
              "paths": {
                "/flagged": { "get": { "tags": ["Users"], "x-authorization-header": true,
                  "parameters": [{ "name": "q", "in": "query", "description": "a|b\nmore", "schema": { "type": "string" } }],
                  "responses": { "204": { "description": "No Content" } } } },
                "/plain": { "post": { "tags": ["Users"],
                  "requestBody": { "content": { "application/json": { "schema": { "type": "object" } } } },
                  "responses": { "200": { "description": "OK", "content": { "application/json": {} } } } } }
              }
            }
            """);

        Assert.Contains(
            "**Parameters:**\n\n| Name | In | Required | Type | Description |\n|---|---|---|---|---|\n"
            + "| `q` | query | no | `string` | a\\|b more |\n"
            + "| `authorization` | header | no | `string` \\| `null` |  |\n\n**Responses:**\n\n| Status | Body |\n|---|---|\n| `204` | No Content |\n\n---",
            page,
            StringComparison.Ordinal);
        Assert.Contains(
            "### **POST** `/plain`\n\n**Request body:**\n\nOptional.\n\n- `application/json` → object\n\n"
            + "**Responses:**\n\n| Status | Body |\n|---|---|\n| `200` | `application/json` → _any_ |\n\n---\n",
            page,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Nullable_enum_lists_only_real_values()
    {
        var page = Render("""
            {
              "openapi": "3.1.1",
              "paths": { "/e": { "get": { "tags": ["Users"], "parameters": [{ "name": "e", "in": "query", "schema": { "$ref": "#/components/schemas/Mode" } }] } } },
              "components": { "schemas": { "Mode": { "type": ["string", "null"], "enum": ["ON", "OFF", null], "description": "Switch.\nTwo lines." } } }
            }
            """);

        Assert.EndsWith(
            "### `Mode`\n\nSwitch.\nTwo lines.\n\n**Type:** `string` \\| `null` (enum)\n\n**Values:** `ON`, `OFF`\n",
            page,
            StringComparison.Ordinal);
    }

    private static string Render(string json) =>
        ApiReferenceRenderer.Render(JsonNode.Parse(json) ?? throw new InvalidOperationException("empty test document"));
}
