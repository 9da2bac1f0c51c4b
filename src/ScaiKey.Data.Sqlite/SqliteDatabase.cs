using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ScaiKey.Data.Sqlite;

public static class SqliteDatabase
{
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        ScaiKeyDbContext.ApplyCommonOptions(builder.UseSqlite(connectionString,
            sqlite => sqlite.MigrationsAssembly(typeof(SqliteDatabase).Assembly.GetName().Name)))
            .AddInterceptors(SqliteConnectionSettings.Instance);
}

// Used by `dotnet ef migrations add` only; the connection is never opened.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<ScaiKeyDbContext>
{
    public ScaiKeyDbContext CreateDbContext(string[] args) =>
        new((DbContextOptions<ScaiKeyDbContext>)SqliteDatabase
            .Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), "Data Source=design-time.db").Options);
}
