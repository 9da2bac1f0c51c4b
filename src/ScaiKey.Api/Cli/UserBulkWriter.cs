using System.Globalization;
using System.Linq.Expressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Npgsql;
using NpgsqlTypes;
using SQLitePCL;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Cli;

/// <summary>
/// The bulk fast path shared by import and seed: users and their group memberships, one transaction per batch,
/// without EF change tracking. SQLite gets one prepared INSERT per table reused across rows; PostgreSQL a binary
/// COPY per table and batch. Tables, columns, store types and value converters come from the EF model, so the
/// writer follows the schema. Only plain INSERT/COPY into the tables: database triggers do the rest.
/// </summary>
internal sealed class UserBulkWriter : IAsyncDisposable
{
    private readonly ScaiKeyDbContext _db;
    private readonly bool _postgres;
    private readonly BulkTable<User> _users;
    private readonly BulkTable<GroupMember> _members;
    private SqliteInsert? _userInsert;
    private SqliteInsert? _memberInsert;

    private UserBulkWriter(ScaiKeyDbContext db)
    {
        _db = db;
        _postgres = db.Database.IsNpgsql();
        _users = BulkTable<User>.From(db);
        _members = BulkTable<GroupMember>.From(db);
    }

    public static async Task<UserBulkWriter> OpenAsync(ScaiKeyDbContext db, CancellationToken ct)
    {
        var writer = new UserBulkWriter(db);
        await db.Database.OpenConnectionAsync(ct);
        if (!writer._postgres)
        {
            // WAL with synchronous=NORMAL stays crash-safe (a commit may be lost on power failure, never half of
            // one); a larger page cache keeps the unique indexes of a million-row tenant in memory.
            await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-524288; PRAGMA temp_store=MEMORY;", ct);
        }

        return writer;
    }

    /// <summary>
    /// Writes one batch in one transaction. <paramref name="inTransaction"/> runs after the rows, before the
    /// commit (the batch's audit event goes there); any exception rolls back the whole batch.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<User> users, IReadOnlyList<GroupMember> members, Func<Task>? inTransaction, CancellationToken ct)
    {
        await using var transaction = await _db.Database.BeginTransactionAsync(ct);
        try
        {
            if (_postgres)
            {
                var connection = (NpgsqlConnection)_db.Database.GetDbConnection();
                await _users.CopyAsync(connection, users, ct);
                await _members.CopyAsync(connection, members, ct);
            }
            else
            {
                var connection = (SqliteConnection)_db.Database.GetDbConnection();
                _userInsert ??= _users.PrepareInsert(connection);
                _memberInsert ??= _members.PrepareInsert(connection);
                // The statements run on the connection, inside the transaction EF began on it.
                BulkTable<User>.Insert(_userInsert, _users, users, ct);
                BulkTable<GroupMember>.Insert(_memberInsert, _members, members, ct);
            }

            if (inTransaction is not null)
            {
                await inTransaction();
            }

            await transaction.CommitAsync(ct);
        }
        finally
        {
            // Whatever the outcome, nothing of this batch may linger in the context for the next one.
            _db.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// After the last batch. On PostgreSQL, VACUUM (ANALYZE) of users: a bulk load leaves the planner's statistics
    /// and the visibility map behind, so until autovacuum comes by, index-only scans (list pages, search walks)
    /// fetch every heap row and plans rest on the counts from before the load. SQLite keeps no such state.
    /// </summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        if (_postgres)
        {
            await _db.Database.ExecuteSqlRawAsync("VACUUM (ANALYZE) users", ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_userInsert is not null)
        {
            await _userInsert.DisposeAsync();
        }

        if (_memberInsert is not null)
        {
            await _memberInsert.DisposeAsync();
        }

        await _db.Database.CloseConnectionAsync();
    }
}

/// <summary>A prepared INSERT on a raw SQLite handle; errors become SqliteExceptions like Microsoft.Data.Sqlite's.</summary>
internal sealed class SqliteInsert(sqlite3 connection, sqlite3_stmt statement) : IAsyncDisposable
{
    public sqlite3 Connection { get; } = connection;

    public sqlite3_stmt Statement { get; } = statement;

    public static void Check(sqlite3 connection, int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(connection).utf8_to_string(), rc, raw.sqlite3_extended_errcode(connection));
        }
    }

    public ValueTask DisposeAsync()
    {
        Statement.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One entity's table as the EF model maps it: name, and per column a getter, converter and store type.</summary>
internal sealed class BulkTable<T>
    where T : class
{
    private sealed record Column(string Name, string StoreType, Func<T, object?> Get, ValueConverter? Converter, NpgsqlDbType PgType);

    private readonly string _table;
    private readonly Column[] _columns;

    private BulkTable(string table, Column[] columns)
    {
        _table = table;
        _columns = columns;
    }

    public static BulkTable<T> From(ScaiKeyDbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var mapping = entity.GetTableMappings().Single();
        var table = mapping.Table.Schema is { } schema ? $"\"{schema}\".\"{mapping.Table.Name}\"" : $"\"{mapping.Table.Name}\"";
        var columns = mapping.ColumnMappings
            .Select(c => new Column(c.Column.Name, c.Column.StoreType, Getter(c.Property), c.TypeMapping.Converter, PgType(c.Column.StoreType)))
            .ToArray();
        return new BulkTable<T>(table, columns);
    }

    private static Func<T, object?> Getter(IProperty property)
    {
        var info = property.PropertyInfo ?? throw new InvalidOperationException($"{typeof(T).Name}.{property.Name} has no CLR property to read.");
        var entity = Expression.Parameter(typeof(T), "e");
        return Expression.Lambda<Func<T, object?>>(Expression.Convert(Expression.Property(entity, info), typeof(object)), entity).Compile();
    }

    private static NpgsqlDbType PgType(string storeType)
    {
        var type = storeType.ToLowerInvariant();
        return type switch
        {
            _ when type.StartsWith("character varying", StringComparison.Ordinal) || type.StartsWith("varchar", StringComparison.Ordinal) => NpgsqlDbType.Varchar,
            "text" => NpgsqlDbType.Text,
            "timestamp with time zone" or "timestamptz" => NpgsqlDbType.TimestampTz,
            "timestamp without time zone" or "timestamp" => NpgsqlDbType.Timestamp,
            "boolean" => NpgsqlDbType.Boolean,
            "integer" => NpgsqlDbType.Integer,
            "bigint" => NpgsqlDbType.Bigint,
            "smallint" => NpgsqlDbType.Smallint,
            "jsonb" => NpgsqlDbType.Jsonb,
            "uuid" => NpgsqlDbType.Uuid,

            // SQLite's affinities: only used there, never for COPY.
            _ => NpgsqlDbType.Unknown,
        };
    }

    private object? Value(Column column, T row)
    {
        var value = column.Get(row);
        return value is null || column.Converter is null ? value : column.Converter.ConvertToProvider(value);
    }

    /// <summary>
    /// A statement prepared on the connection's own SQLite handle and bound by position: Microsoft.Data.Sqlite looks
    /// every parameter up by name on each execution, which cost more than the insert itself.
    /// </summary>
    public SqliteInsert PrepareInsert(SqliteConnection connection)
    {
        var sql = $"INSERT INTO {_table} ({string.Join(", ", _columns.Select(c => $"\"{c.Name}\""))}) " +
            $"VALUES ({string.Join(", ", _columns.Select(_ => "?"))})";
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement);
        SqliteInsert.Check(connection.Handle!, rc);
        return new SqliteInsert(connection.Handle!, statement);
    }

    public static void Insert(SqliteInsert insert, BulkTable<T> table, IReadOnlyList<T> rows, CancellationToken ct)
    {
        var columns = table._columns;
        var statement = insert.Statement;
        foreach (var row in rows)
        {
            ct.ThrowIfCancellationRequested();
            for (var i = 0; i < columns.Length; i++)
            {
                var position = i + 1;
                var rc = table.Value(columns[i], row) switch
                {
                    null => raw.sqlite3_bind_null(statement, position),
                    string s => raw.sqlite3_bind_text(statement, position, s),
                    bool b => raw.sqlite3_bind_int(statement, position, b ? 1 : 0),
                    int n => raw.sqlite3_bind_int64(statement, position, n),
                    long n => raw.sqlite3_bind_int64(statement, position, n),

                    // The text form EF Core's SQLite provider reads and writes.
                    DateTime d => raw.sqlite3_bind_text(statement, position, d.ToString(@"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF", CultureInfo.InvariantCulture)),
                    var other => throw new InvalidOperationException($"Column {columns[i].Name} holds a {other.GetType().Name}, which the bulk writer cannot bind."),
                };
                SqliteInsert.Check(insert.Connection, rc);
            }

            var step = raw.sqlite3_step(statement);
            raw.sqlite3_reset(statement);
            if (step != raw.SQLITE_DONE)
            {
                SqliteInsert.Check(insert.Connection, step);
            }
        }
    }

    public async Task CopyAsync(NpgsqlConnection connection, IReadOnlyList<T> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await using var importer = await connection.BeginBinaryImportAsync(
            $"COPY {_table} ({string.Join(", ", _columns.Select(c => $"\"{c.Name}\""))}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var row in rows)
        {
            await importer.StartRowAsync(ct);
            foreach (var column in _columns)
            {
                switch (Value(column, row))
                {
                    case null:
                        await importer.WriteNullAsync(ct);
                        break;
                    case string s:
                        await importer.WriteAsync(s, column.PgType, ct);
                        break;
                    case DateTime d:
                        await importer.WriteAsync(d, column.PgType, ct);
                        break;
                    case bool b:
                        await importer.WriteAsync(b, column.PgType, ct);
                        break;
                    case int n:
                        await importer.WriteAsync(n, column.PgType, ct);
                        break;
                    case long n:
                        await importer.WriteAsync(n, column.PgType, ct);
                        break;
                    case var other:
                        throw new InvalidOperationException($"Column {column.Name} ({column.StoreType}) holds a {other.GetType().Name}, which the bulk writer cannot copy.");
                }
            }
        }

        await importer.CompleteAsync(ct);
    }
}
