using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Mfa;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static ScaiKey.Api.Sql.ModelSql;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.Sql;

/// <summary>A confirmed TOTP factor as the second-factor step checks it: its id, sealed secret and last used step.</summary>
internal sealed record TotpFactorRow(string Id, string SecretEncrypted, long? LastUsedStep);

/// <summary>What the second-factor step reads before it checks a code: the step's user and its TOTP factors.</summary>
internal sealed record SecondFactorStepRead(SignInUser? User, IReadOnlyList<TotpFactorRow> TotpFactors);

/// <summary>
/// The second-factor step's two reads (the user, its TOTP factors) by plain ADO.NET, as the password check's read
/// is (<see cref="SignInStatements"/>): through EF Core they cost the mfa-otp grant more CPU than the session commit
/// (docs/performance.md, T3). On SQLite both run on one of this class's own connections with the statements
/// prepared; on PostgreSQL on the context's connection, where Npgsql keeps them prepared.
/// </summary>
internal sealed class SecondFactorStatements : IDisposable
{
    private readonly SqlitePreparedPool<Prepared> _sqlite;
    private readonly Lock _init = new();
    private Texts? _texts;

    public SecondFactorStatements() => _sqlite = new(connection => new Prepared(connection, _texts!));

    public async Task<SecondFactorStepRead> ReadAsync(ScaiKeyDbContext db, string tenantId, string userId, CancellationToken ct)
    {
        var texts = _texts ?? Initialize(db);
        if (texts.Sqlite && db.Database.CurrentTransaction is null)
        {
            return _sqlite.Run(db.Database.GetConnectionString()!, prepared =>
            {
                var user = prepared.Statements.User;
                user.Parameters[0].Value = tenantId;
                user.Parameters[1].Value = userId;
                SignInUser? found;
                using (var reader = user.ExecuteReader())
                {
                    found = texts.UserSql.Read(reader);
                }

                if (found is null)
                {
                    return new SecondFactorStepRead(null, []);
                }

                var factors = prepared.Statements.Totp;
                factors.Parameters[0].Value = tenantId;
                factors.Parameters[1].Value = userId;
                using var rows = factors.ExecuteReader();
                return new SecondFactorStepRead(found, ReadFactors(rows));
            });
        }

        await db.Database.OpenConnectionAsync(ct);
        try
        {
            SignInUser? found;
            await using (var command = OnContext(db, texts.FindUser, tenantId, userId))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                found = texts.UserSql.Read(reader);
            }

            if (found is null)
            {
                return new SecondFactorStepRead(null, []);
            }

            await using var factors = OnContext(db, texts.TotpFactors, tenantId, userId, MfaFactorTypes.Totp);
            await using var rows = await factors.ExecuteReaderAsync(ct);
            return new SecondFactorStepRead(found, ReadFactors(rows));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static List<TotpFactorRow> ReadFactors(DbDataReader reader)
    {
        var rows = new List<TotpFactorRow>(1);
        while (reader.Read())
        {
            rows.Add(new TotpFactorRow(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)));
        }

        return rows;
    }

    private Texts Initialize(ScaiKeyDbContext db)
    {
        lock (_init)
        {
            return _texts ??= Texts.From(db);
        }
    }

    public void Dispose() => _sqlite.Dispose();

    private sealed class Texts
    {
        public required bool Sqlite { get; init; }

        public required SignInUserSql UserSql { get; init; }

        public required string FindUser { get; init; }

        public required string TotpFactors { get; init; }

        public static Texts From(ScaiKeyDbContext db)
        {
            var users = db.Model.FindEntityType(typeof(User))!;
            var factors = db.Model.FindEntityType(typeof(MfaFactor))!;
            string F(string property) => Column(factors, property);
            var user = new SignInUserSql(users, factors);
            return new Texts
            {
                Sqlite = db.Database.IsSqlite(),
                UserSql = user,

                // $1 tenant, $2 user id.
                FindUser = user.FindBy(nameof(User.Id)),

                // $1 tenant, $2 user id, $3 the TOTP type: the factors a code may belong to.
                TotpFactors = $"""
                    SELECT {F(nameof(MfaFactor.Id))}, {F(nameof(MfaFactor.SecretEncrypted))}, {F(nameof(MfaFactor.LastUsedStep))}
                    FROM {Table(factors)}
                    WHERE {F(nameof(MfaFactor.TenantId))} = $1 AND {F(nameof(MfaFactor.UserId))} = $2 AND {F(nameof(MfaFactor.Type))} = $3
                          AND {F(nameof(MfaFactor.ConfirmedAt))} IS NOT NULL AND {F(nameof(MfaFactor.SecretEncrypted))} IS NOT NULL
                    """,
            };
        }
    }

    private sealed class Prepared : IDisposable
    {
        public Prepared(SqliteConnection connection, Texts texts)
        {
            User = Prepare(connection, texts.FindUser, 2);
            Totp = Prepare(connection, texts.TotpFactors, 3);
            Totp.Parameters[2].Value = MfaFactorTypes.Totp;
        }

        public SqliteCommand User { get; }

        public SqliteCommand Totp { get; }

        public void Dispose()
        {
            User.Dispose();
            Totp.Dispose();
        }
    }
}
