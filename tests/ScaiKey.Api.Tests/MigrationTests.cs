using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;
using ScaiKey.Data.Postgres;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Api.Tests;

/// <summary>The committed migrations of each provider describe the current model exactly.</summary>
public sealed class MigrationTests
{
    [Fact]
    public void Sqlite_migrations_have_no_pending_model_changes()
    {
        using var db = new ScaiKeyDbContext((DbContextOptions<ScaiKeyDbContext>)SqliteDatabase
            .Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), "Data Source=:memory:").Options);
        Assert.False(db.Database.HasPendingModelChanges(), "run: dotnet ef migrations add <Name> --project src/ScaiKey.Data.Sqlite");
        Assert.NotEmpty(db.Database.GetMigrations());
    }

    [Fact]
    public void Postgres_migrations_have_no_pending_model_changes()
    {
        using var db = new ScaiKeyDbContext((DbContextOptions<ScaiKeyDbContext>)PostgresDatabase
            .Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), "Host=localhost;Database=unused").Options);
        Assert.False(db.Database.HasPendingModelChanges(), "run: dotnet ef migrations add <Name> --project src/ScaiKey.Data.Postgres");
        Assert.NotEmpty(db.Database.GetMigrations());
    }
}
