using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The command line as an operator runs it: `dotnet ScaiKey.Api.dll import|export|help …` (what tools/scaikey runs
/// with SCAIKEY_DLL), as its own process on the class's database, with the exit codes, stdout and stderr of
/// docs/cli.md: data on stdout only, progress and messages on stderr, 0/1/2/3.
/// </summary>
public sealed class CliProcessTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private Dictionary<string, string> Settings => new()
    {
        ["ScaiKey:Database:Provider"] = app.Database.Provider,
        ["ConnectionStrings:Default"] = app.Database.ConnectionString,
        ["ScaiKey:DataDirectory"] = app.Database.Directory,
        ["ScaiKey:KeyEncryptionKey"] = ScaiKeyApp.KeyEncryptionKey,
    };

    private Task<CliResult> RunAsync(params string[] args) => ServiceProcess.RunAsync(app.WorkFolder(), Settings, args);

    [Fact]
    public async Task Help_prints_the_commands_on_stdout_and_exits_0()
    {
        var result = await RunAsync("help");

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}; stderr: {result.Error}");
        Assert.Contains("scaikey import --tenant", result.Out, StringComparison.Ordinal);
        Assert.Contains("scaikey export --tenant", result.Out, StringComparison.Ordinal);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task A_usage_error_exits_2_with_the_reason_on_stderr_and_nothing_on_stdout()
    {
        var unknownTenant = await RunAsync("export", "--tenant", "no-such-tenant");
        Assert.True(unknownTenant.ExitCode == 2, $"exit {unknownTenant.ExitCode}; stderr: {unknownTenant.Error}");
        Assert.StartsWith("scaikey export: ", unknownTenant.Error, StringComparison.Ordinal);
        Assert.Equal("", unknownTenant.Out);

        var unknownOption = await RunAsync("import", "--tenant", "x", "--frobnicate", "users.csv");
        Assert.True(unknownOption.ExitCode == 2, $"exit {unknownOption.ExitCode}; stderr: {unknownOption.Error}");
        Assert.Contains("--frobnicate", unknownOption.Error, StringComparison.Ordinal);
        Assert.Equal("", unknownOption.Out);
    }

    [Fact]
    public async Task Import_with_a_rejected_row_exits_3_with_progress_on_stderr_and_export_writes_only_data_to_stdout()
    {
        var tenant = await app.CreateTenantAsync();
        var folder = app.WorkFolder();
        var file = Path.Combine(folder, "users.csv");
        await File.WriteAllLinesAsync(file,
        [
            "email,first_name,last_name,password",
            "ada@example.com,Ada,Lovelace,Analytical-Engine-1843",
            "not-an-email,Bad,Row,",
            "grace@example.com,Grace,Hopper,",
        ]);

        var import = await ServiceProcess.RunAsync(folder, Settings, ["import", "--tenant", tenant, file]);

        Assert.True(import.ExitCode == 3, $"exit {import.ExitCode}; stderr: {import.Error}; stdout: {import.Out}");
        Assert.Equal("", import.Out);
        Assert.True(import.Error.Contains("import [", StringComparison.Ordinal), "stderr: " + import.Error); // the progress bar, one line per redraw
        Assert.True(import.Error.Contains("3/3 (100", StringComparison.Ordinal), "stderr: " + import.Error);
        Assert.True(import.Error.Contains("Imported 2 users into", StringComparison.Ordinal), "stderr: " + import.Error);
        Assert.True(import.Error.Contains("1 rows rejected", StringComparison.Ordinal), "stderr: " + import.Error);
        Assert.DoesNotContain("Analytical-Engine-1843", import.Error, StringComparison.Ordinal);
        var report = CliHarness.ErrorReport(file + ".errors.jsonl");
        Assert.Equal(3, Assert.Single(report)["line"]!.GetValue<int>());

        var export = await ServiceProcess.RunAsync(folder, Settings, ["export", "--tenant", tenant]);

        Assert.True(export.ExitCode == 0, $"exit {export.ExitCode}; stderr: {export.Error}");
        var lines = export.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["ada@example.com", "grace@example.com"], lines.Select(l => l["email"]!.GetValue<string>()).Order().ToArray());
        Assert.All(lines, l => Assert.Null(l["password_hash"]));
        Assert.DoesNotContain("$argon2", export.Out, StringComparison.Ordinal);
        Assert.Contains("export [", export.Error, StringComparison.Ordinal);

        // The process wrote to the same database the API reads.
        using var admin = await app.AdminAsync();
        var listed = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadJsonAsync(200);
        Assert.Equal(2, listed["pagination"]!["total_items"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_wrong_setting_stops_a_command_with_one_line_and_exit_1()
    {
        var settings = Settings;
        settings["ScaiKey:Database:Provider"] = "Mongo";
        var result = await ServiceProcess.RunAsync(app.WorkFolder(), settings, ["export", "--tenant", "x"]);

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}; stderr: {result.Error}");
        Assert.Equal("", result.Out);
        Assert.Contains("ScaiKey:Database:Provider must be Sqlite or Postgres", Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
