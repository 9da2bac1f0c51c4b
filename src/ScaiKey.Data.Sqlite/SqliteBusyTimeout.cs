using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace ScaiKey.Data.Sqlite;

/// <summary>
/// Lets SQLite itself wait for the write lock. SQLite admits one writer at a time; Microsoft.Data.Sqlite answers a
/// busy database by blocking its thread for 150 ms before each retry, so two sign-ins committing at once cost the
/// second one 150 ms and a thread-pool thread. With a busy timeout, SQLite's own handler retries within a few
/// milliseconds of the lock coming free (it sleeps 1, 2, 5, 10... ms), up to the same 30 s the commands allow.
/// </summary>
public sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public static readonly SqliteBusyTimeout Instance = new();

    /// <summary>As long as a command may run (Microsoft.Data.Sqlite's default command timeout).</summary>
    private const int Milliseconds = 30_000;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection) => Apply((SqliteConnection)connection);

    /// <summary>Sets the wait on an open connection; for connections opened outside EF Core as well.</summary>
    /// <remarks>One C call, no statement; a pooled handle keeps it.</remarks>
    public static void Apply(SqliteConnection connection) => raw.sqlite3_busy_timeout(connection.Handle, Milliseconds);
}
