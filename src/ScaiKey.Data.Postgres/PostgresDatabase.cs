using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ScaiKey.Data.Postgres;

public static class PostgresDatabase
{
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        ScaiKeyDbContext.ApplyCommonOptions(builder.UseNpgsql(connectionString,
            npgsql => npgsql.MigrationsAssembly(typeof(PostgresDatabase).Assembly.GetName().Name)));
}

// Used by `dotnet ef migrations add` only; the connection is never opened.
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<ScaiKeyDbContext>
{
    public ScaiKeyDbContext CreateDbContext(string[] args) =>
        new((DbContextOptions<ScaiKeyDbContext>)PostgresDatabase
            .Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), "Host=localhost;Database=scaikey_design").Options);
}
