using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using ScaiKey.Data;
using ScaiKey.Data.Sqlite;

namespace ScaiKey.Api.Sql;

/// <summary>
/// Names and values for the few statements written by hand on the hottest routes (GET user, password sign-in),
/// taken from the EF model so they follow its tables, columns and converters. Parameters are written $1, $2, ...:
/// PostgreSQL reads them as positional, SQLite as names.
/// </summary>
internal static class ModelSql
{
    public static string Table(IEntityType entity) => Quote(entity.GetTableName()!);

    public static string Column(IEntityType entity, string property) =>
        Quote(entity.FindProperty(property)!.GetColumnName(StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema()))!);

    public static ValueConverter Converter(IEntityType entity, string property) =>
        entity.FindProperty(property)!.GetTypeMapping().Converter!;

    /// <summary>Adds parameter $<paramref name="position"/> (1-based): named on SQLite, positional on PostgreSQL.</summary>
    public static DbParameter Add(DbCommand command, int position, object? value)
    {
        var parameter = command.CreateParameter();
        if (command is SqliteCommand)
        {
            parameter.ParameterName = "$" + position.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>
    /// Runs a read on the context's own connection, in its transaction if one is open (a transaction's uncommitted
    /// writes are invisible to any other connection).
    /// </summary>
    public static async Task<T> ReadOnContextAsync<T>(ScaiKeyDbContext db, string text, Func<DbDataReader, T> read, CancellationToken ct, params object?[] values)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = OnContext(db, text, values);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return read(reader);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>A command on the context's connection, in its transaction if one is open, with $1.. set to <paramref name="values"/>.</summary>
    public static DbCommand OnContext(ScaiKeyDbContext db, string text, params object?[] values)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = text;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        for (var i = 0; i < values.Length; i++)
        {
            Add(command, i + 1, values[i]);
        }

        return command;
    }

    /// <summary>A statement prepared on one of a component's own SQLite connections, with parameters $1..$<paramref name="parameters"/>.</summary>
    public static SqliteCommand Prepare(SqliteConnection connection, string text, int parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = text;
        for (var i = 1; i <= parameters; i++)
        {
            Add(command, i, null);
        }

        command.Prepare();
        return command;
    }

    public static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    // Stored as UTC everywhere; SQLite hands timestamps back as Unspecified.
    public static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    public static DateTime? NullableUtc(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Utc(reader.GetDateTime(ordinal));

    private static string Quote(string name) => "\"" + name + "\"";
}

/// <summary>
/// SQLite connections a component keeps open for itself, each with the component's statements prepared on it
/// (<typeparamref name="TStatements"/>, made once per connection). EF opens a pooled connection per query, which
/// re-registers its functions, and Microsoft.Data.Sqlite keeps no statement cache across commands, so on the
/// hottest routes opening and parsing cost several times the statements themselves. WAL readers never block the
/// writer. Beyond a few idle connections per core, a returned connection is closed: each holds its own page cache.
/// The most recently returned connection is rented first: SQLite drops a connection's whole page cache when another
/// connection has committed since its last read, so taking them in turn (first in, first out) re-read every page of
/// every lookup from the file on every request once sign-ins were writing; the last one used, mostly the last
/// writer, still has its pages.
/// </summary>
internal sealed class SqlitePreparedPool<TStatements>(Func<SqliteConnection, TStatements> prepare) : IDisposable
    where TStatements : class, IDisposable
{
    private static readonly int MaxIdle = Math.Max(4, Environment.ProcessorCount * 2);

    private readonly ConcurrentStack<Prepared> _idle = new();
    private int _idleCount;

    private Prepared Rent(string connectionString)
    {
        if (_idle.TryPop(out var prepared))
        {
            Interlocked.Decrement(ref _idleCount);
            return prepared;
        }

        // Not from Microsoft.Data.Sqlite's pool, and not back into it when disposed: these connections are kept open
        // here, and a component may set its own pragmas on them (sign-in's synchronous=NORMAL), which a pooled
        // handle would carry to whichever EF context opened it next.
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        try
        {
            connection.Open();

            // As the context's connections: SQLite, not a 150 ms sleep, waits out a busy moment; the same checkpoints.
            SqliteConnectionSettings.Apply(connection);
            return new Prepared(connection, prepare(connection));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled connection; one whose work failed is closed, not kept.</summary>
    public T Run<T>(string connectionString, Func<Prepared, T> work)
    {
        var prepared = Rent(connectionString);
        T result;
        try
        {
            result = work(prepared);
        }
        catch
        {
            prepared.Dispose();
            throw;
        }

        Return(prepared);
        return result;
    }

    private void Return(Prepared prepared)
    {
        if (Interlocked.Increment(ref _idleCount) <= MaxIdle)
        {
            _idle.Push(prepared);
            return;
        }

        Interlocked.Decrement(ref _idleCount);
        prepared.Dispose();
    }

    public void Dispose()
    {
        while (_idle.TryPop(out var prepared))
        {
            prepared.Dispose();
        }
    }

    internal sealed class Prepared(SqliteConnection connection, TStatements statements) : IDisposable
    {
        public SqliteConnection Connection { get; } = connection;

        public TStatements Statements { get; } = statements;

        public void Dispose()
        {
            Statements.Dispose();
            Connection.Dispose();
        }
    }
}
