using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Sql;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The sign-in's hand-written statements (Sql/SignInStatements.cs, Sql/SecondFactorStatements.cs) against what EF reads and writes:
/// the user they find is the one EF finds, the rows they write read back through EF field by field, and a user
/// disabled, locked or deleted between the password check and the session gets neither a session nor a grant.
/// On SQLite they run on the statements' own prepared connections, on PostgreSQL on the context's.
/// </summary>
public sealed class SignInStatementsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private SignInStatements Statements => app.Host.Services.GetRequiredService<SignInStatements>();

    [Fact]
    public async Task The_user_found_by_email_is_the_one_ef_reads_with_every_claim_field()
    {
        var tenant = await app.CreateTenantAsync();
        var created = await app.CreateUserAsync(tenant, new
        {
            email = "Grace.Hopper@Example.com",
            password = "Quartz-Lantern-93!",
            first_name = "Grace",
            last_name = "Hopper",
            display_name = "Amazing Grace",
            locale = "en-US",
            timezone = "America/New_York",
            require_password_change = true,
        });
        var userId = created["id"]!.GetValue<string>();
        await app.DbAsync(db => db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockedAt, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc))));

        var found = await app.DbAsync(db => Statements.FindUserAsync(db, tenant, "grace.hopper@example.com", CancellationToken.None));
        var expected = await app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == userId));

        Assert.NotNull(found);
        Assert.Equal(
            new PrincipalUser(expected.Id, expected.Email, expected.EmailVerified, expected.FirstName, expected.LastName, expected.DisplayName,
                expected.Locale, expected.Timezone),
            found.Principal);
        Assert.Equal(expected.PasswordHash, found.PasswordHash);
        Assert.Equal(expected.Status, found.Status);
        Assert.Equal(expected.LockedAt, found.LockedAt);
        Assert.Equal(DateTimeKind.Utc, found.LockedAt!.Value.Kind);
        Assert.True(found.RequirePasswordChange);
        Assert.Equal("Amazing Grace", found.Principal.DisplayName);

        // Another tenant's user with the same email, and a deleted one, are not found.
        var other = await app.CreateTenantAsync();
        Assert.Null(await app.DbAsync(db => Statements.FindUserAsync(db, other, "grace.hopper@example.com", CancellationToken.None)));
        await app.DbAsync(db => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.DeletedAt, DateTime.UtcNow)));
        Assert.Null(await app.DbAsync(db => Statements.FindUserAsync(db, tenant, "grace.hopper@example.com", CancellationToken.None)));
    }

    [Fact]
    public async Task A_started_session_writes_what_ef_reads_back_and_resets_the_user_row()
    {
        var tenant = await app.CreateTenantAsync();
        var userId = await app.CreateUserIdAsync(tenant, "ada@example.com", "Quartz-Lantern-93!");
        await app.DbAsync(db => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.FailedLoginAttempts, 3)));
        // Microseconds: what PostgreSQL keeps of a timestamp.
        var now = new DateTime(2026, 11, 28, 14, 30, 15, 123, DateTimeKind.Utc).AddTicks(4560);
        var session = new NewSession(tenant, userId, Guid.NewGuid().ToString(), "Agent/1.0", "203.0.113.7", now,
            "$argon2id$v=19$m=19456,t=2,p=1$upgraded$hash", Guid.NewGuid().ToString(), "client-1");

        Assert.True(await app.DbAsync(db => Statements.StartSessionAsync(db, session, CancellationToken.None)));

        var (user, stored, grant) = await app.DbAsync(async db => (
            await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId),
            await db.UserSessions.AsNoTracking().SingleAsync(s => s.Id == session.SessionId),
            await db.TokenGrants.AsNoTracking().SingleAsync(g => g.Id == session.GrantId)));
        Assert.Equal(0, user.FailedLoginAttempts);
        Assert.Equal(now, user.LastLoginAt);
        Assert.Equal(session.UpgradedHash, user.PasswordHash);
        Assert.Equal((tenant, userId, "Agent/1.0", "203.0.113.7", now, now, (DateTime?)null),
            (stored.TenantId, stored.UserId, stored.UserAgent, stored.IpAddress, stored.CreatedAt, stored.LastSeenAt, stored.RevokedAt));
        Assert.Equal((tenant, userId, session.SessionId, "client-1", 0, now, (DateTime?)now, (DateTime?)null, (DateTime?)null, (string?)null),
            (grant.TenantId, grant.UserId, grant.SessionId, grant.ClientId, grant.RefreshGeneration, grant.CreatedAt, grant.CodeRedeemedAt,
                grant.LastRefreshedAt, grant.RevokedAt, grant.RevokedReason));

        // Without a re-hash the stored hash stays; without a client no grant is written (the hosted pages' sign-in).
        var second = session with { SessionId = Guid.NewGuid().ToString(), UpgradedHash = null, GrantId = null, GrantClientId = null };
        Assert.True(await app.DbAsync(db => Statements.StartSessionAsync(db, second, CancellationToken.None)));
        Assert.Equal(session.UpgradedHash, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.PasswordHash).SingleAsync()));
        Assert.Equal(1, await app.DbAsync(db => db.TokenGrants.CountAsync(g => g.SessionId == second.SessionId || g.UserId == userId)));
        Assert.True(await app.DbAsync(db => db.UserSessions.AnyAsync(s => s.Id == second.SessionId)));
    }

    [Theory]
    [InlineData("DISABLED")]
    [InlineData("LOCKED")]
    [InlineData("DELETED")]
    public async Task A_user_no_longer_active_gets_no_session_no_grant_and_an_unchanged_row(string change)
    {
        var tenant = await app.CreateTenantAsync();
        var userId = await app.CreateUserIdAsync(tenant, $"{change.ToLowerInvariant()}@example.com", "Quartz-Lantern-93!");
        await app.DbAsync(db => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.FailedLoginAttempts, 2)));
        await app.DbAsync(db => change switch
        {
            "DISABLED" => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.Status, UserStatus.Disabled)),
            "LOCKED" => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.Status, UserStatus.Locked)),
            _ => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.DeletedAt, DateTime.UtcNow)),
        });
        var session = new NewSession(tenant, userId, Guid.NewGuid().ToString(), null, null, DateTime.UtcNow, "$argon2id$new",
            Guid.NewGuid().ToString(), "client-1");

        Assert.False(await app.DbAsync(db => Statements.StartSessionAsync(db, session, CancellationToken.None)));

        Assert.False(await app.DbAsync(db => db.UserSessions.AnyAsync(s => s.UserId == userId)));
        Assert.False(await app.DbAsync(db => db.TokenGrants.AnyAsync(g => g.UserId == userId)));
        var user = await app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == userId));
        Assert.Equal(2, user.FailedLoginAttempts);
        Assert.Null(user.LastLoginAt);
        Assert.NotEqual("$argon2id$new", user.PasswordHash);
    }

    [Fact]
    public async Task Inside_a_callers_transaction_the_statements_see_and_join_its_writes()
    {
        var tenant = await app.CreateTenantAsync();
        var userId = await app.CreateUserIdAsync(tenant, "tx@example.com", "Quartz-Lantern-93!");
        var session = new NewSession(tenant, userId, Guid.NewGuid().ToString(), null, null, DateTime.UtcNow, null, null, null);
        await app.DbAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.FirstName, "Inside"));
            var found = await Statements.FindUserAsync(db, tenant, "tx@example.com", CancellationToken.None);
            Assert.Equal("Inside", found!.Principal.FirstName);
            Assert.True(await Statements.StartSessionAsync(db, session, CancellationToken.None));
            await transaction.RollbackAsync();
        });

        Assert.False(await app.DbAsync(db => db.UserSessions.AnyAsync(s => s.Id == session.SessionId)));
        Assert.Null(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.FirstName).SingleAsync()));
    }

    [Fact]
    public async Task Concurrent_sign_ins_each_get_their_own_session()
    {
        var tenant = await app.CreateTenantAsync();
        var userId = await app.CreateUserIdAsync(tenant, "many@example.com", "Quartz-Lantern-93!");
        var sessions = Enumerable.Range(0, 24).Select(_ => new NewSession(tenant, userId, Guid.NewGuid().ToString(), null, null,
            DateTime.UtcNow, null, Guid.NewGuid().ToString(), "client-1")).ToList();

        var started = await Task.WhenAll(sessions.Select(s => Task.Run(() => app.DbAsync(db => Statements.StartSessionAsync(db, s, CancellationToken.None)))));

        Assert.All(started, Assert.True);
        Assert.Equal(24, await app.DbAsync(db => db.UserSessions.CountAsync(s => s.UserId == userId)));
        Assert.Equal(24, await app.DbAsync(db => db.TokenGrants.CountAsync(g => g.UserId == userId)));
    }

    [Fact]
    public async Task A_session_commit_does_not_wait_for_the_disk_unless_configured_durable()
    {
        var sqlite = app.Database.Provider == "Sqlite";
        Assert.Equal(sqlite ? "1" : "off", await app.DbAsync(db => CommitSettingAsync(db, Statements)));

        var durable = app.StartHost(b => b.UseSetting("ScaiKey:SignIn:DurableSessionCommits", "true"));
        try
        {
            using var scope = durable.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
            Assert.Equal(sqlite ? "2" : "on", await CommitSettingAsync(db, durable.Services.GetRequiredService<SignInStatements>()));
        }
        finally
        {
            await app.StopHostAsync(durable);
        }
    }

    [Fact]
    public async Task The_second_factor_step_reads_the_user_and_only_its_confirmed_totp_factors()
    {
        var tenant = await app.CreateTenantAsync();
        var created = await app.CreateUserAsync(tenant, new { email = "ada@example.com", password = "Quartz-Lantern-93!", first_name = "Ada" });
        var userId = created["id"]!.GetValue<string>();
        var now = DateTime.UtcNow;
        MfaFactor Factor(string type, bool confirmed, long? step) => new()
        {
            Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = userId, Type = type, SecretEncrypted = "sealed-" + type,
            CreatedAt = now, ConfirmedAt = confirmed ? now : null, LastUsedStep = step,
        };
        var confirmed = Factor(MfaFactorTypes.Totp, confirmed: true, step: 42);
        await app.DbAsync(db =>
        {
            db.MfaFactors.AddRange(confirmed, Factor(MfaFactorTypes.Totp, confirmed: false, step: null), Factor(MfaFactorTypes.WebAuthn, confirmed: true, step: null));
            return db.SaveChangesAsync();
        });
        var statements = app.Host.Services.GetRequiredService<SecondFactorStatements>();

        var read = await app.DbAsync(db => statements.ReadAsync(db, tenant, userId, CancellationToken.None));
        var expected = await app.DbAsync(db => Statements.FindUserAsync(db, tenant, "ada@example.com", CancellationToken.None));

        Assert.Equal(expected, read.User);
        Assert.True(read.User!.HasSecondFactor);
        Assert.Equal([new TotpFactorRow(confirmed.Id, "sealed-" + MfaFactorTypes.Totp, 42)], read.TotpFactors);

        // Another tenant's step finds no user (and so no factors); a deleted user is gone too.
        var other = await app.CreateTenantAsync();
        Assert.Null((await app.DbAsync(db => statements.ReadAsync(db, other, userId, CancellationToken.None))).User);
        await app.DbAsync(db => db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.DeletedAt, DateTime.UtcNow)));
        var deleted = await app.DbAsync(db => statements.ReadAsync(db, tenant, userId, CancellationToken.None));
        Assert.Null(deleted.User);
        Assert.Empty(deleted.TotpFactors);
    }

    [Fact]
    public async Task A_sqlite_database_runs_in_wal_mode_so_the_statements_readers_never_block_the_writer()
    {
        var mode = await app.DbAsync(async db =>
        {
            if (!db.Database.IsSqlite())
            {
                return "wal";
            }

            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA journal_mode";
            return (string)(await command.ExecuteScalarAsync())!;
        });

        Assert.Equal("wal", mode);
    }

    [Fact]
    public async Task Every_sqlite_connection_checkpoints_the_wal_ten_times_rarer_than_sqlites_default()
    {
        var pages = await app.DbAsync<(long? Context, long? SignIn)>(async db =>
        {
            if (!db.Database.IsSqlite())
            {
                return (null, null); // PostgreSQL: no WAL of SQLite's to checkpoint.
            }

            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA wal_autocheckpoint";
            return ((long?)await command.ExecuteScalarAsync(), Statements.CheckpointSetting(db));
        });

        if (pages.Context is not null)
        {
            Assert.Equal(10_000, pages.Context);
            Assert.Equal(10_000, pages.SignIn);
        }
    }

    [Fact]
    public async Task Sign_in_connections_do_not_hand_their_relaxed_commits_to_other_connections()
    {
        // Sign-in's own connections commit without waiting for the disk; once they close, no connection the
        // contexts open may carry that setting (Microsoft.Data.Sqlite's pool keeps a handle's pragmas).
        var statements = new SignInStatements(Options.Create(new SignInOptions()));
        string? connectionString = null;
        await app.DbAsync(async db =>
        {
            if (db.Database.IsSqlite())
            {
                Assert.Equal("1", await statements.SessionCommitSettingAsync(db, CancellationToken.None));
                connectionString = db.Database.GetConnectionString();
            }

            return 0;
        });
        statements.Dispose();
        if (connectionString is null)
        {
            return; // PostgreSQL: the setting is per transaction.
        }

        var opened = new List<SqliteConnection>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                var connection = new SqliteConnection(connectionString);
                opened.Add(connection);
                connection.Open();
                using var read = connection.CreateCommand();
                read.CommandText = "PRAGMA synchronous";
                Assert.Equal(2L, read.ExecuteScalar());
            }
        }
        finally
        {
            opened.ForEach(c => c.Dispose());
        }
    }

    /// <summary>On PostgreSQL from a session that waits for the disk, whatever the test server's own default.</summary>
    private static async Task<string> CommitSettingAsync(ScaiKeyDbContext db, SignInStatements statements)
    {
        if (db.Database.IsNpgsql())
        {
            await db.Database.OpenConnectionAsync();
            await db.Database.ExecuteSqlRawAsync("SET synchronous_commit = on");
        }

        return await statements.SessionCommitSettingAsync(db, CancellationToken.None);
    }
}
