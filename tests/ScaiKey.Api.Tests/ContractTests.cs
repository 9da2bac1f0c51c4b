using ScaiKey.ApiReference;

namespace ScaiKey.Api.Tests;

/// <summary>The live OpenAPI document against the authoritative reference, and the committed reference page against the live document.</summary>
public sealed class ContractTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private async Task<string> LiveDocumentAsync()
    {
        using var client = app.Anonymous();
        var response = await client.GetAsync("/openapi.json");
        await response.ShouldBeAsync(200);
        return await response.Content.ReadAsStringAsync();
    }

    private static string Reference => File.ReadAllText(Path.Combine(RepositoryPaths.Reference, "spec", "users-api.md"));

    [Fact]
    public async Task Live_openapi_matches_every_check_of_the_reference()
    {
        var result = Contract.ReferenceContract.Compare(Reference, JsonNode.Parse(await LiveDocumentAsync())!);
        Assert.True(result.Problems.Count == 0, "contract problems:\n" + string.Join("\n", result.Problems) + "\n" + result.Summary);

        // Every endpoint, parameter, body, response and schema field of the reference was checked.
        Assert.Equal("contract: 189/189 seed checks hold", result.Summary);
    }

    [Fact]
    public async Task The_contract_check_catches_a_drifted_field_type_and_a_missing_route()
    {
        var document = JsonNode.Parse(await LiveDocumentAsync())!;
        var user = document["components"]!["schemas"]!["UserResponse"]!["properties"]!.AsObject();
        user["email"] = new JsonObject { ["type"] = "integer" };
        var paths = document["paths"]!.AsObject();
        var list = paths.First(p => p.Key.StartsWith("/api/v1/admin/users/identity-source", StringComparison.Ordinal)).Key;
        paths.Remove(list);

        var result = Contract.ReferenceContract.Compare(Reference, document);
        Assert.Contains(result.Problems, p => p.StartsWith("schema UserResponse.email: type `integer` want `string`", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.StartsWith("missing endpoint GET /api/v1/admin/users/identity-source", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Committed_users_reference_page_is_regenerated_from_the_live_document()
    {
        var rendered = ApiReferenceRenderer.Render(JsonNode.Parse(await LiveDocumentAsync())!);
        var committedPath = Path.Combine(RepositoryPaths.Root, "docs", "reference", "api", "users.md");
        if (Environment.GetEnvironmentVariable("SCAIKEY_UPDATE_DOCS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(committedPath)!);
            await File.WriteAllTextAsync(committedPath, rendered);
        }

        Assert.True(File.Exists(committedPath), "docs/reference/api/users.md is missing; run the tests once with SCAIKEY_UPDATE_DOCS=1");
        var committed = (await File.ReadAllTextAsync(committedPath)).ReplaceLineEndings("\n");
        if (committed != rendered)
        {
            var a = committed.Split('\n');
            var b = rendered.Split('\n');
            var line = Enumerable.Range(0, Math.Min(a.Length, b.Length)).FirstOrDefault(i => a[i] != b[i], Math.Min(a.Length, b.Length));
            Assert.Fail($"docs/reference/api/users.md is stale (first difference at line {line + 1}:\n committed: {(line < a.Length ? a[line] : "<end>")}\n live:      {(line < b.Length ? b[line] : "<end>")}).\n"
                + "Regenerate: SCAIKEY_UPDATE_DOCS=1 dotnet test --filter ContractTests, or dotnet run --project tools/ScaiKey.ApiReference -- --url http://127.0.0.1:5000/openapi.json");
        }
    }

    [Fact]
    public async Task Openapi_is_3_1_with_bearer_security_and_no_authorization_header_parameter()
    {
        var document = JsonNode.Parse(await LiveDocumentAsync())!;
        Assert.StartsWith("3.1", document["openapi"]!.GetValue<string>());
        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>());
        foreach (var (_, item) in document["paths"]!.AsObject())
        {
            foreach (var (_, operation) in item!.AsObject())
            {
                var parameters = operation!["parameters"]?.AsArray() ?? [];
                Assert.DoesNotContain(parameters, p => p!["in"]!.GetValue<string>() == "header" && p["name"]!.GetValue<string>() == "authorization");
                Assert.NotNull(operation["security"]);
            }
        }
    }

    [Fact]
    public async Task Docs_page_is_served_without_authentication_and_lists_the_users_endpoints()
    {
        using var client = app.Anonymous();
        var response = await client.GetAsync("/docs");
        await response.ShouldBeAsync(200);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("/api/v1/tenants/{tenant_id}/users", html);
        Assert.Contains("PaginatedResponse_UserListItem_", html);
        Assert.DoesNotContain("<script", html);
    }
}
