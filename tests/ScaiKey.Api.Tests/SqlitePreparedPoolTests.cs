using ScaiKey.Api.Sql;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The pool of SQLite connections behind GET user and password sign-in hands out the connection returned last: SQLite
/// drops a connection's page cache whenever another connection committed since it last read, so rotating through
/// them re-read every page from the file (29 preads per sign-in under the T2 bench, 4-8 with the last one first).
/// </summary>
public sealed class SqlitePreparedPoolTests
{
    private const string Database = "Data Source=:memory:";

    private sealed class Statements : IDisposable
    {
        public void Dispose()
        {
        }
    }

    [Fact]
    public void The_connection_returned_last_is_the_next_one_rented()
    {
        using var pool = new SqlitePreparedPool<Statements>(_ => new Statements());
        Statements? inner = null;
        var outer = pool.Run(Database, o =>
        {
            // Two connections at once; the inner one goes back first, the outer one last.
            inner = pool.Run(Database, i => i.Statements);
            return o.Statements;
        });

        Assert.NotSame(inner, outer);
        Assert.Same(outer, pool.Run(Database, p => p.Statements));
        Assert.Same(outer, pool.Run(Database, p => p.Statements));
    }
}
