using System.Text.Json.Nodes;
using ScaiKey.ApiReference;

namespace ScaiKey.Tools.Tests;

/// <summary>
/// The hand-written fixture describes exactly the API documented in shared/spec/users-api.md,
/// so rendering it must reproduce that page byte for byte (bar the line naming the generator).
/// </summary>
public sealed class ReferenceDocumentTests
{
    private const string GeneratorLinePrefix = "Generated from the live OpenAPI spec.";

    [Fact]
    public void Fixture_renders_the_published_reference()
    {
        var reference = File.ReadAllText(ReferencePath());
        var expected = WithOurGeneratorLine(reference);

        var actual = ApiReferenceRenderer.Render(LoadFixture());

        AssertSameText(expected, actual);
    }

    [Fact]
    public async Task Program_writes_the_page_with_lf_endings_and_no_bom()
    {
        var directory = Directory.CreateTempSubdirectory("scaikey-apiref-");
        try
        {
            var output = Path.Combine(directory.FullName, "nested", "users.md");
            var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "reference-openapi.json");

            var exitCode = await Program.Main(["--file", fixture, "--out", output]);

            Assert.Equal(0, exitCode);
            var bytes = await File.ReadAllBytesAsync(output);
            Assert.False(bytes.AsSpan().StartsWith("\uFEFF"u8), "output must not start with a BOM");
            Assert.DoesNotContain((byte)'\r', bytes);
            AssertSameText(WithOurGeneratorLine(await File.ReadAllTextAsync(ReferencePath())), await File.ReadAllTextAsync(output));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Program_rejects_url_and_file_together()
    {
        var exitCode = await Program.Main(["--url", "http://127.0.0.1:1/openapi.json", "--file", "x.json"]);

        Assert.Equal(2, exitCode);
    }

    internal static JsonNode LoadFixture() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "reference-openapi.json")))
        ?? throw new InvalidOperationException("fixture is empty");

    private static string WithOurGeneratorLine(string reference)
    {
        var lines = reference.Split('\n');
        var generatorLines = Enumerable.Range(0, lines.Length)
            .Where(i => lines[i].StartsWith(GeneratorLinePrefix, StringComparison.Ordinal))
            .ToList();

        // Without exactly one such line the substitution would silently compare the wrong thing.
        Assert.Single(generatorLines);
        lines[generatorLines[0]] = ApiReferenceRenderer.RegenerateHint;
        return string.Join('\n', lines);
    }

    private static string ReferencePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ScaiKey.slnx")))
            {
                // The repository's own copy of ../shared/spec (reference/README.md), so the test needs nothing beside the clone.
                return Path.Combine(dir.FullName, "reference", "spec", "users-api.md");
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} contains ScaiKey.slnx.");
    }

    internal static void AssertSameText(string expected, string actual)
    {
        if (expected == actual)
        {
            return;
        }

        var want = expected.Split('\n');
        var got = actual.Split('\n');
        var line = 0;
        while (line < want.Length && line < got.Length && want[line] == got[line])
        {
            line++;
        }

        // Guillemets make trailing spaces visible, which matter in the reference's table cells.
        static string Show(string[] lines, int index) => index < lines.Length ? $"«{lines[index]}»" : "<end of text>";

        Assert.Fail(
            $"Rendered page differs from the reference first at line {line + 1}:\n"
            + $"  expected: {Show(want, line)}\n"
            + $"  actual:   {Show(got, line)}");
    }
}
