using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ScaiKey.Data;
using ScaiKey.Data.Postgres;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The committed migrations of each provider describe the current model exactly, and upgrade a database that holds
/// data from the first migration to the latest without losing it (on the provider SCAIKEY_TEST_POSTGRES selects).
/// </summary>
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

    [Fact]
    public async Task A_database_with_data_from_the_first_migration_upgrades_to_the_latest_with_its_data_intact()
    {
        await using var database = await TestDatabase.CreateAsync();
        var builder = new DbContextOptionsBuilder<ScaiKeyDbContext>();
        var options = (DbContextOptions<ScaiKeyDbContext>)(database.Provider == "Postgres"
            ? PostgresDatabase.Configure(builder, database.ConnectionString)
            : SqliteDatabase.Configure(builder, database.ConnectionString)).Options;
        var created = new DateTime(2026, 11, 28, 6, 0, 0, DateTimeKind.Utc);

        await using (var db = new ScaiKeyDbContext(options))
        {
            var migrations = db.Database.GetMigrations().ToList();
            Assert.True(migrations.Count >= 3, string.Join(", ", migrations));
            var migrator = db.GetService<IMigrator>();

            // The schema of the first release, written to as that release wrote (plain SQL: today's entities have
            // columns it did not have).
            await migrator.MigrateAsync(migrations[0]);
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO tenants (id, partner_id, name, slug, settings_json, created_at) VALUES ({0}, NULL, {1}, {2}, {3}, {4})",
                "t-1", "Acme Corp", "acme", "{}", created);
            foreach (var (id, email, first) in new[] { ("u-1", "Ada@Example.com", "Ada"), ("u-2", "grace@example.com", "Grace") })
            {
                await db.Database.ExecuteSqlRawAsync(
                    "INSERT INTO users (id, tenant_id, email, email_normalized, first_name, last_name, locale, timezone, email_verified, status, " +
                    "identity_source, mfa_enabled, password_hash, require_password_change, failed_login_attempts, search_text, created_at, version) " +
                    "VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, {14}, {15}, {16}, {17})",
                    id, "t-1", email, email.ToLowerInvariant(), first, "Tester", "en-US", "UTC", true, "ACTIVE",
                    "LOCAL", false, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", false, 0,
                    $"{email.ToLowerInvariant()} {first.ToLowerInvariant()} tester", created, 1);
            }

            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO groups (id, tenant_id, parent_group_id, name, description, created_at) VALUES ({0}, {1}, NULL, {2}, {3}, {4})",
                "g-1", "t-1", "Engineers", "Builds things", created);
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({0}, {1}, {2}, {3})", "g-1", "u-1", "t-1", created);

            // Applications came with the second migration.
            await migrator.MigrateAsync(migrations[1]);
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO applications (id, tenant_id, name, type, client_id, redirect_uris_json, grant_types_json, created_at) " +
                "VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7})",
                "a-1", "t-1", "Payroll", "SERVICE", "payroll-client", "[]", "[\"client_credentials\"]", created);

            await db.Database.MigrateAsync();
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        }

        // Read back through today's model: every row, with the values written, and the relations between them.
        await using (var db = new ScaiKeyDbContext(options))
        {
            var tenant = await db.Tenants.AsNoTracking().SingleAsync();
            Assert.Equal(("t-1", "Acme Corp", "acme", created), (tenant.Id, tenant.Name, tenant.Slug, tenant.CreatedAt));
            var users = await db.Users.AsNoTracking().OrderBy(u => u.Id).ToListAsync();
            Assert.Equal(["u-1", "u-2"], users.Select(u => u.Id).ToArray());
            Assert.Equal(["Ada@Example.com", "grace@example.com"], users.Select(u => u.Email).ToArray());
            Assert.All(users, u => Assert.Equal("t-1", u.TenantId));
            Assert.All(users, u => Assert.StartsWith("$argon2id$", u.PasswordHash, StringComparison.Ordinal));
            Assert.Equal("Ada", users[0].FirstName);
            var group = await db.Groups.AsNoTracking().SingleAsync();
            Assert.Equal(("g-1", "Engineers", "t-1"), (group.Id, group.Name, group.TenantId));
            var member = await db.GroupMembers.AsNoTracking().SingleAsync();
            Assert.Equal(("g-1", "u-1"), (member.GroupId, member.UserId));
            var application = await db.Applications.AsNoTracking().SingleAsync();
            Assert.Equal(("a-1", "Payroll", "payroll-client", "t-1"), (application.Id, application.Name, application.ClientId, application.TenantId));
        }
    }
}
