using Microsoft.EntityFrameworkCore;
using Npgsql;
using ScaiKey.Data;
using ScaiKey.Data.Postgres;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Api.Tests;

/// <summary>The connection settings the service adds for each database, and that an operator's own settings win.</summary>
public sealed class DatabaseDefaultsTests
{
    [Fact]
    public async Task Sqlite_connections_wait_for_the_write_lock_inside_sqlite()
    {
        var file = Path.Combine(Path.GetTempPath(), $"scaikey-defaults-{Guid.NewGuid():N}.db");
        try
        {
            var options = (DbContextOptions<ScaiKeyDbContext>)SqliteDatabase.Configure(new DbContextOptionsBuilder<ScaiKeyDbContext>(), $"Data Source={file};Pooling=False").Options;
            await using var db = new ScaiKeyDbContext(options);
            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA busy_timeout";
            Assert.Equal(30_000L, await command.ExecuteScalarAsync());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_plain_connection_string_gets_auto_prepare_no_reset_and_generic_plans()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresDatabase.WithDefaults("Host=db.internal;Username=scaikey;Database=scaikey"));
        Assert.Equal(64, builder.MaxAutoPrepare);
        Assert.Equal(2, builder.AutoPrepareMinUsages);
        Assert.True(builder.NoResetOnClose);
        Assert.Equal("-c plan_cache_mode=force_generic_plan", builder.Options);
        Assert.Equal("db.internal", builder.Host);
    }

    [Fact]
    public void The_operators_own_settings_win()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresDatabase.WithDefaults(
            "Host=db.internal;Username=scaikey;Max Auto Prepare=8;No Reset On Close=false;Options=-c plan_cache_mode=auto -c work_mem=64MB"));
        Assert.Equal(8, builder.MaxAutoPrepare);
        Assert.False(builder.NoResetOnClose);
        Assert.Equal("-c plan_cache_mode=auto -c work_mem=64MB", builder.Options);
    }

    [Fact]
    public void Other_options_are_kept_beside_the_plan_cache_mode()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresDatabase.WithDefaults("Host=db.internal;Options=-c work_mem=64MB"));
        Assert.Equal("-c work_mem=64MB -c plan_cache_mode=force_generic_plan", builder.Options);
    }
}
