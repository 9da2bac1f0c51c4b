using Npgsql;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A database of its own for one test class: a SQLite file, or, when SCAIKEY_TEST_POSTGRES holds a connection
/// string to a server, a fresh PostgreSQL database that is dropped afterwards.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "SCAIKEY_TEST_POSTGRES";

    private readonly string? _postgresAdmin;

    private TestDatabase(string provider, string connectionString, string directory, string? postgresAdmin, string? databaseName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Directory = directory;
        _postgresAdmin = postgresAdmin;
        DatabaseName = databaseName;
    }

    public string Provider { get; }
    public string ConnectionString { get; }
    public string Directory { get; }
    public string? DatabaseName { get; }

    public static string? PostgresAdminConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value ? value : null;

    public static bool IsPostgres => PostgresAdminConnectionString is not null;

    /// <summary>An empty database, for tests of the migrations and of a first start.</summary>
    public static Task<TestDatabase> CreateAsync() => CreateAsync(migrated: false);

    /// <summary>
    /// A database with every migration applied, copied from <see cref="MigratedTemplate"/>: what a test class's
    /// service would otherwise migrate itself at start. SCAIKEY_TEST_NO_TEMPLATE=1 makes it empty again, to compare.
    /// </summary>
    public static Task<TestDatabase> CreateMigratedAsync() =>
        CreateAsync(migrated: Environment.GetEnvironmentVariable("SCAIKEY_TEST_NO_TEMPLATE") != "1");

    private static async Task<TestDatabase> CreateAsync(bool migrated)
    {
        var directory = Path.Combine(Path.GetTempPath(), "scaikey-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (PostgresAdminConnectionString is { } admin)
        {
            var name = "scaikey_test_" + Guid.NewGuid().ToString("N")[..16];
            if (migrated)
            {
                await MigratedTemplate.CreatePostgresCopyAsync(admin, name);
            }
            else
            {
                await using var connection = new NpgsqlConnection(admin);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await command.ExecuteNonQueryAsync();
            }

            var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true, MaxPoolSize = 30 };
            return new TestDatabase("Postgres", builder.ConnectionString, directory, admin, name);
        }

        var file = Path.Combine(directory, "scaikey.db");
        if (migrated)
        {
            await MigratedTemplate.CopySqliteAsync(file);
        }

        return new TestDatabase("Sqlite", $"Data Source={file};Default Timeout=60", directory, null, null);
    }

    public ValueTask DisposeAsync() => new(RemoveAsync());

    /// <summary>
    /// The database goes away, also under a service still running on it: the PostgreSQL database is dropped (its
    /// sessions ended), the SQLite file's folder deleted, so not even a new connection can create the file again.
    /// </summary>
    public async Task RemoveAsync()
    {
        if (_postgresAdmin is not null && DatabaseName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_postgresAdmin);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a pool is only a temp-folder leftover.
        }
    }
}
