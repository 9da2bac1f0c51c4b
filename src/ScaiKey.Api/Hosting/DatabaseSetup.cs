using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using ScaiKey.Data;
using ScaiKey.Data.Postgres;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Api.Hosting;

internal enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>The provider and connection string, resolved once from the validated options.</summary>
internal sealed record DatabaseTarget(DatabaseProvider Provider, string ConnectionString)
{
    public static DatabaseTarget From(DatabaseOptions database, StorageOptions storage, IConfiguration configuration)
    {
        var provider = database.ProviderKind ?? DatabaseProvider.Sqlite;
        var connectionString = configuration.GetConnectionString("Default");
        if (provider == DatabaseProvider.Sqlite && string.IsNullOrEmpty(connectionString))
        {
            connectionString = $"Data Source={Path.Combine(storage.FullDataDirectory, "scaikey.db")}";
        }

        return new DatabaseTarget(provider, connectionString!);
    }

    /// <summary>What an operator recognises (file, or host, port and database), never the password.</summary>
    public string Describe()
    {
        try
        {
            if (Provider == DatabaseProvider.Sqlite)
            {
                return $"the SQLite database {new SqliteConnectionStringBuilder(ConnectionString).DataSource}";
            }

            var postgres = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"the PostgreSQL database {postgres.Database ?? postgres.Username} on {postgres.Host}:{postgres.Port}";
        }
        catch (ArgumentException)
        {
            return $"the {Provider} database";
        }
    }

    /// <summary>
    /// SQLite creates a missing file but not a missing folder: a fresh deployment pointing at /var/lib/scaikey/db.sqlite
    /// should not fail for want of a mkdir. In-memory and URI data sources are left alone.
    /// </summary>
    public void EnsureSqliteFolder()
    {
        if (Provider != DatabaseProvider.Sqlite)
        {
            return;
        }

        var builder = new SqliteConnectionStringBuilder(ConnectionString);
        var source = builder.DataSource;
        if (string.IsNullOrEmpty(source) || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
            || builder.Mode == SqliteOpenMode.Memory)
        {
            return;
        }

        if (Path.GetDirectoryName(Path.GetFullPath(source)) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }
    }
}

internal static class DatabaseSetup
{
    public static IServiceCollection AddScaiKeyDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp => DatabaseTarget.From(
            sp.GetRequiredService<IOptions<DatabaseOptions>>().Value, sp.GetRequiredService<IOptions<StorageOptions>>().Value, configuration));

        // Pooled: building a context's options (conventions, warnings, provider services) per request cost more
        // CPU than the single-row reads most requests make. Resolved from the container, so that a wrong provider is
        // reported by the options' validation at start rather than thrown while services are registered.
        services.AddDbContextPool<ScaiKeyDbContext>((sp, options) =>
        {
            var target = sp.GetRequiredService<DatabaseTarget>();
            if (target.Provider == DatabaseProvider.Sqlite)
            {
                SqliteDatabase.Configure(options, target.ConnectionString);
            }
            else
            {
                PostgresDatabase.Configure(options, target.ConnectionString);
            }
        });
        return services;
    }

    /// <summary>
    /// Creates a missing SQLite folder, migrates and runs the one-time data steps. A database that cannot be opened
    /// or reached becomes a <see cref="StartupException"/> saying which one and why.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var target = app.Services.GetRequiredService<DatabaseTarget>();
        try
        {
            target.EnsureSqliteFolder();
            await MigrateAsync(app);
        }
        catch (Exception e) when (e is DbException or IOException or UnauthorizedAccessException or TimeoutException or System.Net.Sockets.SocketException
            || (e is InvalidOperationException && e.InnerException is DbException or TimeoutException or System.Net.Sockets.SocketException))
        {
            var cause = e is InvalidOperationException { InnerException: { } inner } ? inner : e;
            throw new StartupException($"{target.Describe()} cannot be opened or reached: {cause.Message.ReplaceLineEndings(" ").Trim()}", e);
        }
        catch (ArgumentException e)
        {
            // A malformed connection string ("Keyword not supported"); the message names the keyword, not its value.
            throw new StartupException($"ConnectionStrings:Default is not a valid {target.Provider} connection string: {e.Message}", e);
        }
    }

    private static async Task MigrateAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        if (scope.ServiceProvider.GetRequiredService<IOptions<DatabaseOptions>>().Value.AutoMigrate)
        {
            await db.Database.MigrateAsync();
        }

        if (db.Database.IsSqlite())
        {
            // WAL lets readers run while one writer commits; the setting is stored in the database file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }

        // One-time data steps need the schema they write to; without automatic migrations an operator may start
        // an instance before applying them, and the step then waits for a start after that.
        if (!(await db.Database.GetPendingMigrationsAsync()).Any())
        {
            await ActivatorUtilities.CreateInstance<Users.EmailNormalizationStep>(scope.ServiceProvider).RunAsync(CancellationToken.None);
        }
    }
}
