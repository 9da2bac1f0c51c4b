using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class UserScale : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_created_at_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_status",
                table: "users");

            migrationBuilder.CreateTable(
                name: "tenant_user_counts",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    live_users = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenant_user_counts", x => new { x.tenant_id, x.status });
                    table.ForeignKey(
                        name: "fk_tenant_user_counts_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_users_created_at_id",
                table: "users",
                columns: new[] { "created_at", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_created_at_id",
                table: "users",
                columns: new[] { "tenant_id", "created_at", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_status_created_at_id",
                table: "users",
                columns: new[] { "tenant_id", "status", "created_at", "id" },
                filter: "\"deleted_at\" IS NULL");

            // After the table and indexes exist: triggers first, then the backfill, all in the migration's transaction.
            UserScaleSql.Apply(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            UserScaleSql.Revert(migrationBuilder);

            migrationBuilder.DropTable(
                name: "tenant_user_counts");

            migrationBuilder.DropIndex(
                name: "ix_users_created_at_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_created_at_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_status_created_at_id",
                table: "users");

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_created_at_id",
                table: "users",
                columns: new[] { "tenant_id", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_status",
                table: "users",
                columns: new[] { "tenant_id", "status" });
        }
    }

    /// <summary>
    /// The SQLite objects behind fast user lists that EF Core's model cannot describe: the per-tenant live-user
    /// counters' triggers and the FTS5 trigram index for substring search.
    /// </summary>
    /// <remarks>
    /// Triggers belong to their table: a later migration that makes EF Core rebuild <c>users</c> (SQLite cannot
    /// alter most columns in place, so EF copies the rows into a new table and drops the old one) loses them and
    /// renumbers the rowids the search index points at. Such a migration must call <see cref="Revert"/> before
    /// the rebuild and <see cref="Apply"/> after it. UserListScaleTests fails if the triggers are missing.
    /// </remarks>
    internal static class UserScaleSql
    {
        public static void Apply(MigrationBuilder migrationBuilder)
        {
            // Counters of live users per (tenant, status). Row triggers: SQLite has no statement-level ones, and
            // an upsert into a table of a few rows per tenant costs little next to the insert itself.
            migrationBuilder.Sql("""
                CREATE TRIGGER users_count_insert AFTER INSERT ON users WHEN new.deleted_at IS NULL
                BEGIN
                    INSERT INTO tenant_user_counts (tenant_id, status, live_users) VALUES (new.tenant_id, new.status, 1)
                    ON CONFLICT (tenant_id, status) DO UPDATE SET live_users = live_users + 1;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_count_delete AFTER DELETE ON users WHEN old.deleted_at IS NULL
                BEGIN
                    UPDATE tenant_user_counts SET live_users = live_users - 1
                    WHERE tenant_id = old.tenant_id AND status = old.status;
                END;
                """);

            // Only the columns a count depends on, and only when the row enters, leaves or moves between counts:
            // sign-ins and profile edits never touch the counters.
            migrationBuilder.Sql("""
                CREATE TRIGGER users_count_update AFTER UPDATE OF tenant_id, status, deleted_at ON users
                WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL)
                    OR (new.deleted_at IS NULL AND (new.tenant_id IS NOT old.tenant_id OR new.status IS NOT old.status))
                BEGIN
                    UPDATE tenant_user_counts SET live_users = live_users - 1
                    WHERE old.deleted_at IS NULL AND tenant_id = old.tenant_id AND status = old.status;
                    INSERT INTO tenant_user_counts (tenant_id, status, live_users)
                    SELECT new.tenant_id, new.status, 1 WHERE new.deleted_at IS NULL
                    ON CONFLICT (tenant_id, status) DO UPDATE SET live_users = live_users + 1;
                END;
                """);
            migrationBuilder.Sql("""
                INSERT INTO tenant_user_counts (tenant_id, status, live_users)
                SELECT tenant_id, status, count(*) FROM users WHERE deleted_at IS NULL GROUP BY tenant_id, status;
                """);

            // Substring search: an external-content FTS5 table over users.search_text (no second copy of the
            // text), keyed by the users rowid. The trigram tokenizer makes a quoted MATCH of 3 or more characters
            // a substring match; case_sensitive 1 because search_text and the term are both lower-cased by the
            // application already, so the index agrees exactly with instr(). Every row is indexed, soft-deleted
            // ones too, so 'rebuild' stays a valid repair; the list query filters deleted_at itself.
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE user_search USING fts5(
                    search_text, content='users', content_rowid='rowid', tokenize='trigram case_sensitive 1');
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_search_insert AFTER INSERT ON users
                BEGIN
                    INSERT INTO user_search (rowid, search_text) VALUES (new.rowid, new.search_text);
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_search_delete AFTER DELETE ON users
                BEGIN
                    INSERT INTO user_search (user_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_search_update AFTER UPDATE OF search_text ON users
                WHEN new.search_text IS NOT old.search_text
                BEGIN
                    INSERT INTO user_search (user_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
                    INSERT INTO user_search (rowid, search_text) VALUES (new.rowid, new.search_text);
                END;
                """);
            migrationBuilder.Sql("INSERT INTO user_search (user_search) VALUES ('rebuild');");
        }

        public static void Revert(MigrationBuilder migrationBuilder)
        {
            foreach (var trigger in new[]
                     {
                         "users_search_update", "users_search_delete", "users_search_insert",
                         "users_count_update", "users_count_delete", "users_count_insert",
                     })
            {
                migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {trigger};");
            }

            migrationBuilder.Sql("DROP TABLE IF EXISTS user_search;");
        }
    }
}
