using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Npgsql;

namespace ScaiKey.Data.Postgres;

public static class PostgresDatabase
{
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        ScaiKeyDbContext.ApplyCommonOptions(builder.UseNpgsql(WithDefaults(connectionString),
            npgsql => npgsql.MigrationsAssembly(typeof(PostgresDatabase).Assembly.GetName().Name)));

    /// <summary>
    /// Statements the service runs over and over (a user by id, a page of a list) are prepared on the server once
    /// per connection: planning them cost several times their execution. An operator's own Max Auto Prepare wins.
    /// Connections are not reset when they go back to the pool: the service never changes session state (no
    /// session SET, temporary tables, LISTEN or session advisory locks), and the reset is one more statement the
    /// server parses and runs with every request's first query. An operator's own No Reset On Close wins.
    /// Prepared statements keep one generic plan (plan_cache_mode=force_generic_plan): with the page's LIMIT and
    /// OFFSET as parameters PostgreSQL otherwise judges the generic plan costlier and plans every execution again,
    /// which took more CPU than running a list page. The service picks the index path of its searches itself
    /// (UserReads.ScanInOrderAsync) and writes them so that no parameter value could change the plan's shape.
    /// An operator's own plan_cache_mode in Options wins.
    /// </summary>
    public static string WithDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        if (!HasSetting(connectionString, "No Reset On Close") && !HasSetting(connectionString, "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (builder.Options?.Contains("plan_cache_mode", StringComparison.OrdinalIgnoreCase) != true)
        {
            builder.Options = (builder.Options + " -c plan_cache_mode=force_generic_plan").Trim();
        }

        return builder.ConnectionString;
    }

    private static bool HasSetting(string connectionString, string key) =>
        connectionString.Split(';').Any(part => part.Split('=')[0].Trim().Equals(key, StringComparison.OrdinalIgnoreCase));
}

// Used by `dotnet ef migrations add` only; the connection is never opened.
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<ScaiKeyDbContext>
{
    public ScaiKeyDbContext CreateDbContext(string[] args) =>
        new((DbContextOptions<ScaiKeyDbContext>)PostgresDatabase
            .Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), "Host=localhost;Database=scaikey_design").Options);
}
