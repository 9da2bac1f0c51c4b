using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;
using ScaiKey.Data.Postgres;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Api.Hosting;

internal enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

internal static class DatabaseSetup
{
    public static string DataDirectory(IConfiguration configuration) =>
        Path.GetFullPath(configuration["ScaiKey:DataDirectory"] ?? Path.Combine(Directory.GetCurrentDirectory(), "data"));

    public static DatabaseProvider Provider(IConfiguration configuration) =>
        configuration["ScaiKey:Database:Provider"] switch
        {
            null or "" => DatabaseProvider.Sqlite,
            var p when p.Equals("sqlite", StringComparison.OrdinalIgnoreCase) => DatabaseProvider.Sqlite,
            var p when p.Equals("postgres", StringComparison.OrdinalIgnoreCase) || p.Equals("postgresql", StringComparison.OrdinalIgnoreCase) => DatabaseProvider.Postgres,
            var p => throw new InvalidOperationException($"ScaiKey:Database:Provider '{p}' is not supported; use Sqlite or Postgres."),
        };

    public static IServiceCollection AddScaiKeyDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var provider = Provider(configuration);
        var connectionString = configuration.GetConnectionString("Default");
        if (provider == DatabaseProvider.Sqlite && string.IsNullOrEmpty(connectionString))
        {
            var directory = DataDirectory(configuration);
            Directory.CreateDirectory(directory);
            connectionString = $"Data Source={Path.Combine(directory, "scaikey.db")}";
        }

        if (string.IsNullOrEmpty(connectionString))
        {
            throw new InvalidOperationException("ConnectionStrings:Default is required with the Postgres provider.");
        }

        // Pooled: building a context's options (conventions, warnings, provider services) per request cost more
        // CPU than the single-row reads most requests make.
        services.AddDbContextPool<ScaiKeyDbContext>(options =>
        {
            if (provider == DatabaseProvider.Sqlite)
            {
                SqliteDatabase.Configure(options, connectionString);
            }
            else
            {
                PostgresDatabase.Configure(options, connectionString);
            }
        });
        return services;
    }

    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        if (app.Configuration.GetValue("ScaiKey:Database:AutoMigrate", true))
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
