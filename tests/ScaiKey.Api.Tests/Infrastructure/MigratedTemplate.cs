using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ScaiKey.Data;
using ScaiKey.Data.Postgres;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// One database per provider and test run with every migration applied, which each test class's database starts as
/// a copy of: running the migrations again for each of the hundred-odd classes was a large part of CI's time. The
/// template holds only what the migrations write; the service's own start-up steps (bootstrap client, keys, data
/// steps) still run on each class's copy. Tests of the migrations themselves use <see cref="TestDatabase.CreateAsync"/>,
/// which stays empty.
/// </summary>
internal static class MigratedTemplate
{
    private static readonly Lazy<Task<string>> Sqlite = new(CreateSqliteAsync);
    private static readonly Lazy<Task<string>> Postgres = new(CreatePostgresAsync);

    /// <summary>Copies the migrated SQLite template to <paramref name="file"/>.</summary>
    public static async Task CopySqliteAsync(string file)
    {
        var template = await Sqlite.Value;
        File.Copy(template, file);
    }

    /// <summary>Creates <paramref name="name"/> as a copy of the migrated PostgreSQL template.</summary>
    public static async Task CreatePostgresCopyAsync(string admin, string name)
    {
        var template = await Postgres.Value;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> CreateSqliteAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "scaikey-tests", "template-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "scaikey.db");
        // No pooling, so no connection holds the file once the migrations are done: the copies are of a closed file
        // in the default rollback journal mode (the service switches each copy to WAL when it starts).
        var connectionString = new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString();
        await MigrateAsync(SqliteDatabase.Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), connectionString));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(directory);
        return file;
    }

    private static async Task<string> CreatePostgresAsync()
    {
        var admin = TestDatabase.PostgresAdminConnectionString
            ?? throw new InvalidOperationException($"{TestDatabase.PostgresVariable} is not set");
        var name = "scaikey_template_" + Guid.NewGuid().ToString("N")[..16];
        await ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DropQuietly(admin, name);

        // CREATE DATABASE ... TEMPLATE refuses while any session is connected to the template: no pooled connection
        // may outlive the migrations.
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = false }.ConnectionString;
        await MigrateAsync(PostgresDatabase.Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), connectionString));
        return name;
    }

    private static async Task MigrateAsync(DbContextOptionsBuilder options)
    {
        await using var db = new ScaiKeyDbContext((DbContextOptions<ScaiKeyDbContext>)options.Options);
        await db.Database.MigrateAsync();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    // A left-over template on a shared server is only clutter; the test run's result does not depend on it.
    private static void DropQuietly(string admin, string name)
    {
        try
        {
            ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
