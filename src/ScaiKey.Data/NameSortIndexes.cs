namespace ScaiKey.Data;

/// <summary>
/// The indexes of the name sorts (sort_by=display_name, last_name), outside the EF model because EF Core cannot
/// declare an index on an expression. The list orders names by lower(column), then id (UserReads.Sort), so the
/// index key is exactly that expression: SQLite and PostgreSQL only use an expression index whose expression matches
/// the query's. Users without the name are read after the others, by id, from a small partial index of their own.
/// The SQL is the same on both providers; the ListSortIndexes migration of each runs it. On SQLite a later migration
/// that rebuilds the users table drops these (as it drops the UserScale triggers) and must run <see cref="Apply"/>
/// again; UserListSortTests checks they exist.
/// </summary>
public static class NameSortIndexes
{
    public static readonly string[] Columns = ["display_name", "last_name"];

    public static string Apply => string.Concat(Columns.Select(c => $"""
        CREATE INDEX IF NOT EXISTS ix_users_tenant_id_lower_{c}_id ON users (tenant_id, lower({c}), id) WHERE deleted_at IS NULL;
        CREATE INDEX IF NOT EXISTS ix_users_tenant_id_id_no_{c} ON users (tenant_id, id) WHERE deleted_at IS NULL AND {c} IS NULL;

        """));

    public static string Revert => string.Concat(Columns.Select(c => $"""
        DROP INDEX IF EXISTS ix_users_tenant_id_lower_{c}_id;
        DROP INDEX IF EXISTS ix_users_tenant_id_id_no_{c};

        """));

    /// <summary>
    /// PostgreSQL only: the same name-order indexes with the column itself in INCLUDE. PostgreSQL reads an expression
    /// index index-only only when every column the query names is in it, and the walk's lower(name) names the column;
    /// without it a deep page fetched a heap row per entry (page 500: 10,000 rows, 95-135 ms at a million users).
    /// </summary>
    public static string CoverPostgres => string.Concat(Columns.Select(c => $"""
        DROP INDEX IF EXISTS ix_users_tenant_id_lower_{c}_id;
        CREATE INDEX ix_users_tenant_id_lower_{c}_id ON users (tenant_id, lower({c}), id) INCLUDE ({c}) WHERE deleted_at IS NULL;

        """));

    /// <summary>Undoes <see cref="CoverPostgres"/>: the indexes as <see cref="Apply"/> makes them.</summary>
    public static string UncoverPostgres => string.Concat(Columns.Select(c => $"""
        DROP INDEX IF EXISTS ix_users_tenant_id_lower_{c}_id;

        """)) + Apply;

    /// <summary>The names of the indexes created by <see cref="Apply"/>.</summary>
    public static IEnumerable<string> Names => Columns.SelectMany(c => new[] { $"ix_users_tenant_id_lower_{c}_id", $"ix_users_tenant_id_id_no_{c}" });
}
