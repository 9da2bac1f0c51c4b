using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static ScaiKey.Api.Sql.ModelSql;

namespace ScaiKey.Api.Sql;

/// <summary>A user's row as the API shows it, with its OU path.</summary>
internal sealed record UserRow(
    string Id, string TenantId, string Email, string? Username, string? FirstName, string? LastName, string? DisplayName,
    string? Phone, string Locale, string Timezone, bool EmailVerified, string? AvatarUrl, string? OuId, string? OuPath,
    UserStatus Status, IdentitySource IdentitySource, bool MfaEnabled, string? CustomAttributesJson, DateTime CreatedAt,
    DateTime? UpdatedAt, DateTime? LastLoginAt, DateTime? PasswordChangedAt, int Version);

/// <summary>A group the user is a direct member of.</summary>
internal sealed record DirectGroup(string Id, string Name, string? ParentGroupId);

/// <summary>
/// Reads one live user of a tenant with its direct groups in one statement, by plain ADO.NET: GET user is the API's
/// hottest route, and on it EF Core's query pipeline, opening and closing a pooled SQLite connection and parsing the
/// statement again (Microsoft.Data.Sqlite keeps no statement cache across commands) cost several times the read
/// itself. On SQLite the statement stays prepared on a few connections kept open for it (WAL readers never block
/// writers); on PostgreSQL it runs on the context's own connection, where Npgsql's auto-prepare keeps it prepared.
/// Table and column names come from the EF model, and enum and date conversions from its converters, so the row is
/// what EF would have read. A transaction's uncommitted writes are invisible to another connection, so inside one
/// the statement runs on the context's connection and transaction.
/// </summary>
internal sealed class UserRowReader : IDisposable
{
    private const int UserColumns = 23;

    private readonly SqlitePreparedPool<PreparedRead> _sqlite;
    private readonly Lock _init = new();
    private Statement? _statement;

    public UserRowReader() => _sqlite = new(connection => new PreparedRead(connection, _statement!.Text));

    public async Task<(UserRow Row, List<DirectGroup> Groups)?> ReadAsync(ScaiKeyDbContext db, string tenantId, string userId, CancellationToken ct)
    {
        var statement = _statement ?? Initialize(db);
        if (statement.Sqlite && db.Database.CurrentTransaction is null)
        {
            return _sqlite.Run(db.Database.GetConnectionString()!, prepared =>
            {
                var read = prepared.Statements;
                read.Tenant.Value = tenantId;
                read.User.Value = userId;
                using var reader = read.Command.ExecuteReader();
                return Read(reader, statement);
            });
        }

        // Inside a transaction the read must see its writes, so it runs on the context's connection, in it.
        return await ReadOnContextAsync(db, statement.Text, reader => Read(reader, statement), ct, tenantId, userId);
    }

    private static (UserRow Row, List<DirectGroup> Groups)? Read(DbDataReader reader, Statement statement)
    {
        UserRow? row = null;
        var groups = new List<DirectGroup>();
        while (reader.Read())
        {
            row ??= new UserRow(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), NullableString(reader, 3), NullableString(reader, 4),
                NullableString(reader, 5), NullableString(reader, 6), NullableString(reader, 7), reader.GetString(8), reader.GetString(9),
                reader.GetBoolean(10), NullableString(reader, 11), NullableString(reader, 12), NullableString(reader, 13),
                (UserStatus)statement.Status.ConvertFromProvider(reader.GetString(14))!,
                (IdentitySource)statement.IdentitySource.ConvertFromProvider(reader.GetString(15))!,
                reader.GetBoolean(16), NullableString(reader, 17), Utc(reader.GetDateTime(18)), NullableUtc(reader, 19),
                NullableUtc(reader, 20), NullableUtc(reader, 21), reader.GetInt32(22));
            if (!reader.IsDBNull(UserColumns))
            {
                groups.Add(new DirectGroup(reader.GetString(UserColumns), reader.GetString(UserColumns + 1), NullableString(reader, UserColumns + 2)));
            }
        }

        return row is null ? null : (row, groups);
    }

    private Statement Initialize(ScaiKeyDbContext db)
    {
        lock (_init)
        {
            return _statement ??= Statement.From(db);
        }
    }

    public void Dispose() => _sqlite.Dispose();

    private sealed class Statement
    {
        public required string Text { get; init; }

        public required bool Sqlite { get; init; }

        public required ValueConverter Status { get; init; }

        public required ValueConverter IdentitySource { get; init; }

        public static Statement From(ScaiKeyDbContext db)
        {
            var users = db.Model.FindEntityType(typeof(User))!;
            var members = db.Model.FindEntityType(typeof(GroupMember))!;
            var groups = db.Model.FindEntityType(typeof(Group))!;
            var units = db.Model.FindEntityType(typeof(OrganizationalUnit))!;
            string U(string property) => "u." + Column(users, property);

            // Same shape as the EF query it replaces (UserReads.GetAsync before): a row per direct group, or one row
            // with NULL group columns. $1 is the tenant, $2 the user.
            var text = $"""
                SELECT {U(nameof(User.Id))}, {U(nameof(User.TenantId))}, {U(nameof(User.Email))}, {U(nameof(User.Username))},
                       {U(nameof(User.FirstName))}, {U(nameof(User.LastName))}, {U(nameof(User.DisplayName))}, {U(nameof(User.Phone))},
                       {U(nameof(User.Locale))}, {U(nameof(User.Timezone))}, {U(nameof(User.EmailVerified))}, {U(nameof(User.AvatarUrl))},
                       {U(nameof(User.OuId))},
                       (SELECT o.{Column(units, nameof(OrganizationalUnit.Path))} FROM {Table(units)} AS o
                        WHERE o.{Column(units, nameof(OrganizationalUnit.Id))} = {U(nameof(User.OuId))} LIMIT 1),
                       {U(nameof(User.Status))}, {U(nameof(User.IdentitySource))}, {U(nameof(User.MfaEnabled))},
                       {U(nameof(User.CustomAttributesJson))}, {U(nameof(User.CreatedAt))}, {U(nameof(User.UpdatedAt))},
                       {U(nameof(User.LastLoginAt))}, {U(nameof(User.PasswordChangedAt))}, {U(nameof(User.Version))},
                       g.{Column(groups, nameof(Group.Id))}, g.{Column(groups, nameof(Group.Name))}, g.{Column(groups, nameof(Group.ParentGroupId))}
                FROM {Table(users)} AS u
                LEFT JOIN {Table(members)} AS m ON m.{Column(members, nameof(GroupMember.TenantId))} = $1
                     AND m.{Column(members, nameof(GroupMember.UserId))} = {U(nameof(User.Id))}
                LEFT JOIN {Table(groups)} AS g ON g.{Column(groups, nameof(Group.Id))} = m.{Column(members, nameof(GroupMember.GroupId))}
                WHERE {U(nameof(User.TenantId))} = $1 AND {U(nameof(User.Id))} = $2 AND {U(nameof(User.DeletedAt))} IS NULL
                """;
            return new Statement
            {
                Text = text,
                Sqlite = db.Database.IsSqlite(),
                Status = Converter(users, nameof(User.Status)),
                IdentitySource = Converter(users, nameof(User.IdentitySource)),
            };
        }
    }

    /// <summary>The statement prepared on one of the reader's own SQLite connections.</summary>
    private sealed class PreparedRead : IDisposable
    {
        public PreparedRead(SqliteConnection connection, string text)
        {
            Command = connection.CreateCommand();
            Command.CommandText = text;
            Tenant = (SqliteParameter)ModelSql.Add(Command, 1, null);
            User = (SqliteParameter)ModelSql.Add(Command, 2, null);
            Command.Prepare();
        }

        public SqliteCommand Command { get; }

        public SqliteParameter Tenant { get; }

        public SqliteParameter User { get; }

        public void Dispose() => Command.Dispose();
    }
}
