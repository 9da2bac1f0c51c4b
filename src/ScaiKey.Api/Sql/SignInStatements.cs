using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static ScaiKey.Api.Sql.ModelSql;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.Sql;

/// <summary>
/// The password sign-in's reads and writes by plain ADO.NET: the user by email, then one transaction with the
/// user's row (counter reset, last_login_at, re-hash), the session and the token grant. Besides the hash, a
/// sign-in was mostly EF Core's pipeline and SQLite parsing the same statements again (the sign-in bench's
/// T2/H1 target), so on SQLite they stay prepared on connections of this class's own, and its own writes queue
/// in the process for SQLite's single writer instead of meeting in SQLite's busy handler, which sleeps
/// milliseconds at a time. PostgreSQL runs them on the context's connection, where Npgsql keeps them prepared.
/// Everything else about sign-in (failures, lockout, unlock) stays on EF: it is rarer and has more to do.
/// <para>
/// The session commit does not wait for the disk unless <c>ScaiKey:SignIn:DurableSessionCommits</c> is set
/// (SQLite: <c>synchronous=NORMAL</c> on these connections, WAL; PostgreSQL: <c>synchronous_commit=off</c> for
/// the transaction). Either database stays consistent; a power cut can lose only the last sign-ins' commits, so
/// those users sign in again, and any later durable commit (a failure count, a lockout, a revocation, an admin
/// change) makes every sign-in before it durable too, as both logs are written in order. The wait was about 15 %
/// of a sign-in's CPU beyond the hash (docs/performance.md).
/// </para>
/// </summary>
internal sealed class SignInStatements : IDisposable
{
    private readonly SqlitePreparedPool<Prepared> _sqlite;
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);
    private readonly Lock _init = new();
    private readonly bool _durableCommits;
    private Texts? _texts;

    public SignInStatements(Microsoft.Extensions.Options.IOptions<SignInOptions> options)
    {
        _durableCommits = options.Value.DurableSessionCommits;
        _sqlite = new(connection =>
        {
            if (!_durableCommits)
            {
                using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA synchronous=NORMAL";
                pragma.ExecuteNonQuery();
            }

            return new Prepared(connection, _texts!);
        });
    }

    public async Task<SignInUser?> FindUserAsync(ScaiKeyDbContext db, string tenantId, string emailNormalized, CancellationToken ct)
    {
        var texts = _texts ?? Initialize(db);
        if (texts.Sqlite && db.Database.CurrentTransaction is null)
        {
            return _sqlite.Run(db.Database.GetConnectionString()!, prepared =>
            {
                var find = prepared.Statements.Find;
                find.Parameters[0].Value = tenantId;
                find.Parameters[1].Value = emailNormalized;
                using var reader = find.ExecuteReader();
                return texts.UserSql.Read(reader);
            });
        }

        return await ReadOnContextAsync(db, texts.Find, texts.UserSql.Read, ct, tenantId, emailNormalized);
    }

    /// <summary>
    /// Commits a successful check with its session (and grant), or nothing and false when the user is no longer
    /// ACTIVE or was deleted since the check: no session, so no token, for a user disabled mid-sign-in.
    /// </summary>
    public async Task<bool> StartSessionAsync(ScaiKeyDbContext db, NewSession session, CancellationToken ct)
    {
        var texts = _texts ?? Initialize(db);
        var values = Values(texts, session);
        if (texts.Sqlite && db.Database.CurrentTransaction is null)
        {
            await _sqliteWriter.WaitAsync(ct);
            try
            {
                return _sqlite.Run(db.Database.GetConnectionString()!,
                    prepared => Write(prepared.Connection, prepared.Statements, session, values));
            }
            finally
            {
                _sqliteWriter.Release();
            }
        }

        var owned = db.Database.CurrentTransaction is null;
        var transaction = db.Database.CurrentTransaction ?? await db.Database.BeginTransactionAsync(ct);
        try
        {
            // A caller's transaction has its own writes to keep durable.
            if (owned)
            {
                await RelaxCommitAsync(db, ct);
            }

            await using (var update = OnContext(db, texts.Update, values.Update))
            await using (var spend = values.Challenge is null ? null
                : OnContext(db, session.SealedChallenge is null ? texts.SpendChallenge : texts.SpendSealedChallenge, values.Challenge))
            await using (var claim = values.Totp is null ? null : OnContext(db, texts.ClaimTotpStep, values.Totp))
            {
                if (await update.ExecuteNonQueryAsync(ct) != 1 || (spend is not null && await spend.ExecuteNonQueryAsync(ct) != 1)
                    || (claim is not null && await claim.ExecuteNonQueryAsync(ct) != 1))
                {
                    if (owned)
                    {
                        await transaction.RollbackAsync(ct);
                    }

                    return false;
                }
            }

            await using (var insert = OnContext(db, texts.InsertSession, values.Session))
            {
                await insert.ExecuteNonQueryAsync(ct);
            }

            if (session.GrantId is not null)
            {
                await using var insert = OnContext(db, texts.InsertGrant, values.Grant);
                await insert.ExecuteNonQueryAsync(ct);
            }

            await using (var audit = OnContext(db, texts.InsertAudit, values.Audit))
            {
                await audit.ExecuteNonQueryAsync(ct);
            }

            if (owned)
            {
                await transaction.CommitAsync(ct);
            }

            return true;
        }
        finally
        {
            if (owned)
            {
                await transaction.DisposeAsync();
            }
        }
    }

    private async Task RelaxCommitAsync(ScaiKeyDbContext db, CancellationToken ct)
    {
        if (!_durableCommits)
        {
            await using var relax = OnContext(db, "SET LOCAL synchronous_commit = off");
            await relax.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// What a session commit runs with: SQLite's <c>synchronous</c> on these connections (1 NORMAL, 2 FULL) or
    /// PostgreSQL's <c>synchronous_commit</c> inside the commit's transaction (<c>off</c>, <c>on</c>).
    /// </summary>
    internal async Task<string> SessionCommitSettingAsync(ScaiKeyDbContext db, CancellationToken ct)
    {
        var texts = _texts ?? Initialize(db);
        if (texts.Sqlite)
        {
            return Convert.ToString(SqlitePragma(db, "synchronous"), System.Globalization.CultureInfo.InvariantCulture)!;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await RelaxCommitAsync(db, ct);
        await using var show = OnContext(db, "SHOW synchronous_commit");
        var setting = (string)(await show.ExecuteScalarAsync(ct))!;
        await transaction.RollbackAsync(ct);
        return setting;
    }

    /// <summary>SQLite's <c>wal_autocheckpoint</c> on these connections; null on PostgreSQL.</summary>
    internal long? CheckpointSetting(ScaiKeyDbContext db) =>
        (_texts ?? Initialize(db)).Sqlite ? (long?)SqlitePragma(db, "wal_autocheckpoint") : null;

    /// <summary>A pragma's value as one of these connections has it.</summary>
    private object? SqlitePragma(ScaiKeyDbContext db, string pragma) => _sqlite.Run(db.Database.GetConnectionString()!, prepared =>
    {
        using var read = prepared.Connection.CreateCommand();
        read.CommandText = "PRAGMA " + pragma;
        return read.ExecuteScalar();
    });

    private static bool Write(SqliteConnection connection, Prepared statements, NewSession session, Row values)
    {
        var withGrant = session.GrantId is not null;
        using var transaction = connection.BeginTransaction(deferred: false);
        if (Run(statements.Update, transaction, values.Update) != 1
            || (values.Challenge is not null
                && Run(session.SealedChallenge is null ? statements.SpendChallenge : statements.SpendSealedChallenge, transaction, values.Challenge) != 1)
            || (values.Totp is not null && Run(statements.ClaimTotpStep, transaction, values.Totp) != 1))
        {
            transaction.Rollback();
            return false;
        }

        Run(statements.InsertSession, transaction, values.Session);
        if (withGrant)
        {
            Run(statements.InsertGrant, transaction, values.Grant);
        }

        Run(statements.InsertAudit, transaction, values.Audit);

        transaction.Commit();
        return true;
    }

    private static int Run(SqliteCommand command, SqliteTransaction transaction, object?[] values)
    {
        command.Transaction = transaction;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command.ExecuteNonQuery();
    }

    private sealed record Row(object?[] Update, object?[] Session, object?[] Grant, object?[] Audit, object?[]? Challenge, object?[]? Totp);

    private static Row Values(Texts texts, NewSession s) => new(
        [s.UserId, s.TenantId, s.Now, s.UpgradedHash, texts.Active],
        [s.SessionId, s.TenantId, s.UserId, s.UserAgent, s.IpAddress, s.Now, s.Amr],
        [s.GrantId, s.TenantId, s.UserId, s.SessionId, s.GrantClientId, s.Now],
        [s.AuditId ?? Ids.New(), s.TenantId, s.UserId, NewSession.SignedInAction, s.AuditReason, s.RequestId, s.IpAddress, s.Now],
        s.ChallengeId is null ? null
            : s.SealedChallenge is not { } spend ? [s.ChallengeId, s.TenantId, s.UserId, s.Now]
            : [s.ChallengeId, s.TenantId, s.UserId, s.Now, spend.Purpose, spend.TokenHash, spend.ClientId, spend.ExpiresAt],
        s.Totp is null ? null : [s.Totp.FactorId, s.TenantId, s.Totp.Step, s.Now]);

    private Texts Initialize(ScaiKeyDbContext db)
    {
        lock (_init)
        {
            return _texts ??= Texts.From(db);
        }
    }

    public void Dispose()
    {
        _sqlite.Dispose();
        _sqliteWriter.Dispose();
    }

    private sealed class Texts
    {
        public required bool Sqlite { get; init; }

        public required string Find { get; init; }

        public required string Update { get; init; }

        public required string InsertSession { get; init; }

        public required string InsertGrant { get; init; }

        public required string InsertAudit { get; init; }

        public required string SpendChallenge { get; init; }

        public required string SpendSealedChallenge { get; init; }

        public required string ClaimTotpStep { get; init; }

        public required SignInUserSql UserSql { get; init; }

        public object Active => UserSql.Active;

        public static Texts From(ScaiKeyDbContext db)
        {
            var users = db.Model.FindEntityType(typeof(User))!;
            var sessions = db.Model.FindEntityType(typeof(UserSession))!;
            var grants = db.Model.FindEntityType(typeof(TokenGrant))!;
            var factors = db.Model.FindEntityType(typeof(MfaFactor))!;
            var audit = db.Model.FindEntityType(typeof(AuditEvent))!;
            var challenges = db.Model.FindEntityType(typeof(MfaChallenge))!;
            string U(string property) => Column(users, property);
            string S(string property) => Column(sessions, property);
            string G(string property) => Column(grants, property);
            string F(string property) => Column(factors, property);
            string A(string property) => Column(audit, property);
            string C(string property) => Column(challenges, property);
            var user = new SignInUserSql(users, factors);
            return new Texts
            {
                Sqlite = db.Database.IsSqlite(),
                UserSql = user,

                // $1 tenant, $2 normalized email.
                Find = user.FindBy(nameof(User.EmailNormalized)),

                // $1 user, $2 tenant, $3 now, $4 the re-hashed password or NULL, $5 ACTIVE.
                Update = $"""
                    UPDATE {Table(users)}
                    SET {U(nameof(User.FailedLoginAttempts))} = 0, {U(nameof(User.LastLoginAt))} = $3,
                        {U(nameof(User.PasswordHash))} = COALESCE($4, {U(nameof(User.PasswordHash))})
                    WHERE {U(nameof(User.Id))} = $1 AND {U(nameof(User.TenantId))} = $2 AND {U(nameof(User.Status))} = $5
                          AND {U(nameof(User.DeletedAt))} IS NULL
                    """,

                // $1 session, $2 tenant, $3 user, $4 user agent, $5 IP address, $6 now, $7 amr.
                InsertSession = $"""
                    INSERT INTO {Table(sessions)} ({S(nameof(UserSession.Id))}, {S(nameof(UserSession.TenantId))}, {S(nameof(UserSession.UserId))},
                        {S(nameof(UserSession.UserAgent))}, {S(nameof(UserSession.IpAddress))}, {S(nameof(UserSession.CreatedAt))},
                        {S(nameof(UserSession.LastSeenAt))}, {S(nameof(UserSession.RevokedAt))}, {S(nameof(UserSession.Amr))},
                        {S(nameof(UserSession.AuthenticatedAt))})
                    VALUES ($1, $2, $3, $4, $5, $6, $6, NULL, $7, $6)
                    """,

                // $1 grant, $2 tenant, $3 user, $4 session, $5 client, $6 now. No code precedes a password grant's tokens.
                InsertGrant = $"""
                    INSERT INTO {Table(grants)} ({G(nameof(TokenGrant.Id))}, {G(nameof(TokenGrant.TenantId))}, {G(nameof(TokenGrant.UserId))},
                        {G(nameof(TokenGrant.SessionId))}, {G(nameof(TokenGrant.ClientId))}, {G(nameof(TokenGrant.RefreshGeneration))},
                        {G(nameof(TokenGrant.CreatedAt))}, {G(nameof(TokenGrant.CodeRedeemedAt))}, {G(nameof(TokenGrant.LastRefreshedAt))},
                        {G(nameof(TokenGrant.RevokedAt))}, {G(nameof(TokenGrant.RevokedReason))})
                    VALUES ($1, $2, $3, $4, $5, 0, $6, $6, NULL, NULL, NULL)
                    """,

                // $1 id, $2 tenant, $3 user (actor and target), $4 action, $5 reason, $6 request id, $7 IP address, $8 now.
                InsertAudit = $"""
                    INSERT INTO {Table(audit)} ({A(nameof(AuditEvent.Id))}, {A(nameof(AuditEvent.TenantId))}, {A(nameof(AuditEvent.ActorType))},
                        {A(nameof(AuditEvent.ActorId))}, {A(nameof(AuditEvent.Action))}, {A(nameof(AuditEvent.TargetType))},
                        {A(nameof(AuditEvent.TargetId))}, {A(nameof(AuditEvent.ChangesJson))}, {A(nameof(AuditEvent.Reason))},
                        {A(nameof(AuditEvent.RequestId))}, {A(nameof(AuditEvent.IpAddress))}, {A(nameof(AuditEvent.CreatedAt))})
                    VALUES ($1, $2, 'USER', $3, $4, 'user', $3, NULL, $5, $6, $7, $8)
                    """,

                // $1 challenge, $2 tenant, $3 user, $4 now: the pending step, used up once and only before it expires.
                SpendChallenge = $"""
                    UPDATE {Table(challenges)} SET {C(nameof(MfaChallenge.UsedAt))} = $4
                    WHERE {C(nameof(MfaChallenge.Id))} = $1 AND {C(nameof(MfaChallenge.TenantId))} = $2 AND {C(nameof(MfaChallenge.UserId))} = $3
                          AND {C(nameof(MfaChallenge.UsedAt))} IS NULL AND {C(nameof(MfaChallenge.ExpiresAt))} > $4
                    """,

                // $1 challenge, $2 tenant, $3 user, $4 now, $5 purpose, $6 token hash, $7 client, $8 expiry: a sealed
                // step's row written as used, or, where wrong codes already wrote it, marked used while it is unused,
                // of this user and short of the wrong-code limit. The token's expiry was checked when it was opened.
                SpendSealedChallenge = $"""
                    INSERT INTO {Table(challenges)} ({C(nameof(MfaChallenge.Id))}, {C(nameof(MfaChallenge.TenantId))}, {C(nameof(MfaChallenge.UserId))},
                        {C(nameof(MfaChallenge.Purpose))}, {C(nameof(MfaChallenge.TokenHash))}, {C(nameof(MfaChallenge.ClientId))},
                        {C(nameof(MfaChallenge.Data))}, {C(nameof(MfaChallenge.FailedAttempts))}, {C(nameof(MfaChallenge.CreatedAt))},
                        {C(nameof(MfaChallenge.ExpiresAt))}, {C(nameof(MfaChallenge.UsedAt))})
                    VALUES ($1, $2, $3, $5, $6, $7, NULL, 0, $4, $8, $4)
                    ON CONFLICT ({C(nameof(MfaChallenge.Id))}) DO UPDATE SET {C(nameof(MfaChallenge.UsedAt))} = $4
                    WHERE {Table(challenges)}.{C(nameof(MfaChallenge.UsedAt))} IS NULL
                          AND {Table(challenges)}.{C(nameof(MfaChallenge.TenantId))} = $2 AND {Table(challenges)}.{C(nameof(MfaChallenge.UserId))} = $3
                          AND {Table(challenges)}.{C(nameof(MfaChallenge.FailedAttempts))} < {MfaChallenges.MaxFailedAttempts}
                    """,

                // $1 factor, $2 tenant, $3 step, $4 now: a TOTP code's step, claimed once (a later step only).
                ClaimTotpStep = $"""
                    UPDATE {Table(factors)} SET {F(nameof(MfaFactor.LastUsedStep))} = $3, {F(nameof(MfaFactor.LastUsedAt))} = $4
                    WHERE {F(nameof(MfaFactor.Id))} = $1 AND {F(nameof(MfaFactor.TenantId))} = $2
                          AND ({F(nameof(MfaFactor.LastUsedStep))} IS NULL OR {F(nameof(MfaFactor.LastUsedStep))} < $3)
                    """,
            };
        }
    }

    /// <summary>The six statements, prepared on one of this class's own SQLite connections.</summary>
    private sealed class Prepared : IDisposable
    {
        public Prepared(SqliteConnection connection, Texts texts)
        {
            Find = Prepare(connection, texts.Find, 2);
            Update = Prepare(connection, texts.Update, 5);
            InsertSession = Prepare(connection, texts.InsertSession, 7);
            InsertGrant = Prepare(connection, texts.InsertGrant, 6);
            InsertAudit = Prepare(connection, texts.InsertAudit, 8);
            SpendChallenge = Prepare(connection, texts.SpendChallenge, 4);
            SpendSealedChallenge = Prepare(connection, texts.SpendSealedChallenge, 8);
            ClaimTotpStep = Prepare(connection, texts.ClaimTotpStep, 4);
        }

        public SqliteCommand Find { get; }

        public SqliteCommand Update { get; }

        public SqliteCommand InsertSession { get; }

        public SqliteCommand InsertGrant { get; }

        public SqliteCommand InsertAudit { get; }

        public SqliteCommand SpendChallenge { get; }

        public SqliteCommand SpendSealedChallenge { get; }

        public SqliteCommand ClaimTotpStep { get; }

        public void Dispose()
        {
            Find.Dispose();
            Update.Dispose();
            InsertSession.Dispose();
            InsertGrant.Dispose();
            InsertAudit.Dispose();
            SpendChallenge.Dispose();
            SpendSealedChallenge.Dispose();
            ClaimTotpStep.Dispose();
        }
    }
}
