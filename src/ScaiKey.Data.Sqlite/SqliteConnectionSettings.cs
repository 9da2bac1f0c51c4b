using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace ScaiKey.Data.Sqlite;

/// <summary>
/// What every connection to the database gets when it opens, by C calls (no statement; a pooled handle keeps them):
/// <list type="bullet">
/// <item>A busy timeout, so SQLite itself waits for the write lock. SQLite admits one writer at a time;
/// Microsoft.Data.Sqlite answers a busy database by blocking its thread for 150 ms before each retry, so two
/// sign-ins committing at once cost the second one 150 ms and a thread-pool thread. With a busy timeout, SQLite's
/// own handler retries within a few milliseconds of the lock coming free (it sleeps 1, 2, 5, 10... ms), up to the
/// same 30 s the commands allow.</item>
/// <item>A WAL checkpoint every <see cref="CheckpointPages"/> pages instead of SQLite's 1,000. A sign-in's commit
/// writes ~18 pages, nearly all the same hot leaves as the commit before, so checkpoints every ~55 sign-ins copied
/// the same pages back and waited for two fsyncs each time (docs/performance.md, session 16). Every connection has
/// the same threshold, so whichever commits past it checkpoints, and no request pays for another's backlog early.
/// The WAL file grows to ~40 MB and is reused.</item>
/// </list>
/// </summary>
public sealed class SqliteConnectionSettings : DbConnectionInterceptor
{
    public static readonly SqliteConnectionSettings Instance = new();

    /// <summary>WAL pages after which a committing connection checkpoints (SQLite's default: 1,000).</summary>
    public const int CheckpointPages = 10_000;

    /// <summary>As long as a command may run (Microsoft.Data.Sqlite's default command timeout).</summary>
    private const int BusyMilliseconds = 30_000;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection) => Apply((SqliteConnection)connection);

    /// <summary>Applies the settings to an open connection; for connections opened outside EF Core as well.</summary>
    public static void Apply(SqliteConnection connection)
    {
        raw.sqlite3_busy_timeout(connection.Handle, BusyMilliseconds);
        raw.sqlite3_wal_autocheckpoint(connection.Handle, CheckpointPages);
    }
}
