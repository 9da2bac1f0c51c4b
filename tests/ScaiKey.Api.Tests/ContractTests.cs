using System.Diagnostics;
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

    [Fact]
    public async Task Live_openapi_matches_every_check_of_the_reference()
    {
        var document = Path.Combine(app.Database.Directory, "openapi.json");
        await File.WriteAllTextAsync(document, await LiveDocumentAsync());
        var script = Path.Combine(RepositoryPaths.Reference, "tools", "contract-check.py");
        var reference = Path.Combine(RepositoryPaths.Reference, "spec", "users-api.md");
        Assert.True(File.Exists(script), $"contract checker not found at {script}");

        var start = new ProcessStartInfo("python3", [script, "compare", reference, document])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var summary = lines.Last();
        Assert.StartsWith("contract: ", summary);
        var problems = lines.Where(l => !l.StartsWith("contract: ", StringComparison.Ordinal)).ToList();
        Assert.True(problems.Count == 0 && process.ExitCode == 0, "contract problems:\n" + output + errors);
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
