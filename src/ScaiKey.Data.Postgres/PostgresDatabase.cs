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
    /// </summary>
    public static string WithDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        return builder.ConnectionString;
    }
}

// Used by `dotnet ef migrations add` only; the connection is never opened.
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<ScaiKeyDbContext>
{
    public ScaiKeyDbContext CreateDbContext(string[] args) =>
        new((DbContextOptions<ScaiKeyDbContext>)PostgresDatabase
            .Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), "Host=localhost;Database=scaikey_design").Options);
}
