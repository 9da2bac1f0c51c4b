using ScaiKey.Api.Cli;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>What a `scaikey` command printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error);

/// <summary>Runs the `scaikey` commands in-process against a test host's services (and so its database).</summary>
internal static class CliHarness
{
    public static async Task<CliResult> RunCliAsync(this ScaiKeyApp app, string[] args, CliHooks? hooks = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliRunner.RunAsync(args, app.Host.Services, new CliConsole(output, error, errorIsTerminal: false), hooks);
        return new CliResult(exit, output.ToString(), error.ToString());
    }

    /// <summary>A fresh folder for input and report files, removed with the test database.</summary>
    public static string WorkFolder(this ScaiKeyApp app)
    {
        var path = Path.Combine(app.Database.Directory, "cli-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The lines of an import error report as parsed JSON objects.</summary>
    public static List<JsonNode> ErrorReport(string path) =>
        File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!).ToList() : [];
}
