namespace ScaiKey.Api.Tests;

/// <summary>
/// The built service as an operator starts it (`dotnet ScaiKey.Api.dll`): a wrong setting or a database that cannot
/// be opened ends the process with exit code 1 and exactly one line on stderr naming the key or the database and why,
/// never a stack trace (before: an unhandled exception and exit code 134). The controls start the same way and are
/// stopped by the test's timeout only because they are healthy; the CLI verb `data-steps` is used where a run must
/// end by itself after the database is prepared.
/// </summary>
public sealed class StartupProcessTests
{
    private static readonly string[] Serve = ["--urls", "http://127.0.0.1:0"];

    [Theory]
    [InlineData("ScaiKey:Database:Provider", "Oracle", "must be Sqlite or Postgres")]
    [InlineData("ScaiKey:Smtp:Port", "0", "must be between 1 and 65535")]
    [InlineData("ScaiKey:KeyEncryptionKey", "c2hvcnQ=", "must be 32 bytes, base64-encoded")]
    [InlineData("ScaiKey:Housekeeping:KeepEndedDays", "-1", "must be between 0 and 3650")]
    public async Task A_wrong_setting_exits_1_with_one_line_on_stderr_naming_it(string key, string value, string allowed)
    {
        var folder = ServiceProcess.NewFolder();
        var result = await ServiceProcess.RunAsync(folder, new Dictionary<string, string> { [key] = value }, Serve);

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}; stderr: {result.Error}; stdout: {result.Out}");
        var line = Assert.Single(Lines(result.Error));
        Assert.StartsWith("ScaiKey cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(key, line, StringComparison.Ordinal);
        Assert.Contains(allowed, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error + result.Out, StringComparison.Ordinal);

        // Stopped before the database: nothing was created in the working folder.
        Assert.False(Directory.Exists(Path.Combine(folder, "data")), "the start went on to create ./data");
    }

    [Fact]
    public async Task A_sqlite_file_whose_folder_does_not_exist_gets_its_folder()
    {
        var folder = ServiceProcess.NewFolder();
        var file = Path.Combine(folder, "deep", "er", "scaikey.db");
        var result = await ServiceProcess.RunAsync(folder, Settings(("ConnectionStrings:Default", $"Data Source={file}")), ["data-steps"]);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}; stderr: {result.Error}; stdout: {result.Out}");
        Assert.True(File.Exists(file), "the database file was not created");
    }

    [Fact]
    public async Task A_sqlite_file_that_cannot_be_created_exits_1_naming_the_file()
    {
        var folder = ServiceProcess.NewFolder();

        // A regular file where the folder should be: no user, root included, can create the database under it.
        var blocker = Path.Combine(folder, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "x");
        var file = Path.Combine(blocker, "scaikey.db");
        var result = await ServiceProcess.RunAsync(folder, Settings(("ConnectionStrings:Default", $"Data Source={file}")), Serve);

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}; stderr: {result.Error}; stdout: {result.Out}");
        var line = Assert.Single(Lines(result.Error));
        Assert.Contains($"the SQLite database {file} cannot be opened or reached", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_postgres_server_that_refuses_exits_1_naming_host_and_database_without_the_password()
    {
        var folder = ServiceProcess.NewFolder();

        // Port 1 on loopback: nothing listens, the connection is refused at once.
        var result = await ServiceProcess.RunAsync(folder, Settings(
            ("ScaiKey:Database:Provider", "Postgres"),
            ("ConnectionStrings:Default", "Host=127.0.0.1;Port=1;Username=scaikey;Password=Very-Secret-Pw-42;Database=scaikey_prod;Timeout=5")), Serve);

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}; stderr: {result.Error}; stdout: {result.Out}");
        var line = Assert.Single(Lines(result.Error));
        Assert.Contains("the PostgreSQL database scaikey_prod on 127.0.0.1:1 cannot be opened or reached", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Very-Secret-Pw-42", result.Error + result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_without_a_connection_string_exits_1_naming_it()
    {
        var result = await ServiceProcess.RunAsync(ServiceProcess.NewFolder(), Settings(("ScaiKey:Database:Provider", "postgres")), Serve);

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}; stderr: {result.Error}; stdout: {result.Out}");
        Assert.Contains("ConnectionStrings:Default is required", Assert.Single(Lines(result.Error)), StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Settings(params (string Key, string Value)[] settings) =>
        settings.ToDictionary(s => s.Key, s => s.Value);

    private static List<string> Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
