using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
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
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    live_users = table.Column<long>(type: "bigint", nullable: false)
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

            // After the table and indexes exist: triggers first, then the backfill, all in the migration's transaction
            // (CREATE TRIGGER locks out concurrent writers until it commits, so the backfill misses nothing).
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
    /// The PostgreSQL objects behind fast user lists that EF Core's model cannot describe: the per-tenant
    /// live-user counters' triggers and the trigram index for substring search.
    /// </summary>
    internal static class UserScaleSql
    {
        public static void Apply(MigrationBuilder migrationBuilder)
        {
            // Inserts and deletes: statement-level triggers over the transition table, so a multi-row INSERT or a
            // COPY of a million users does one grouped upsert per statement instead of one per row. Groups are
            // upserted in key order so two concurrent statements lock counter rows in the same order.
            migrationBuilder.Sql("""
                CREATE FUNCTION users_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO tenant_user_counts AS c (tenant_id, status, live_users)
                    SELECT tenant_id, status, count(*) FROM inserted_users WHERE deleted_at IS NULL
                    GROUP BY tenant_id, status ORDER BY tenant_id, status
                    ON CONFLICT (tenant_id, status) DO UPDATE SET live_users = c.live_users + excluded.live_users;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_count_insert AFTER INSERT ON users REFERENCING NEW TABLE AS inserted_users
                FOR EACH STATEMENT EXECUTE FUNCTION users_count_insert();
                """);
            migrationBuilder.Sql("""
                CREATE FUNCTION users_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE tenant_user_counts AS c SET live_users = c.live_users - d.n
                    FROM (SELECT tenant_id, status, count(*) AS n FROM deleted_users WHERE deleted_at IS NULL
                          GROUP BY tenant_id, status ORDER BY tenant_id, status) AS d
                    WHERE c.tenant_id = d.tenant_id AND c.status = d.status;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_count_delete AFTER DELETE ON users REFERENCING OLD TABLE AS deleted_users
                FOR EACH STATEMENT EXECUTE FUNCTION users_count_delete();
                """);

            // Updates: a row trigger limited to the columns a count depends on, with a WHEN clause the server
            // evaluates without calling the function, so sign-ins and profile edits cost nothing. (A statement
            // trigger cannot have both transition tables and a column list, and would run on every update.)
            migrationBuilder.Sql("""
                CREATE FUNCTION users_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.deleted_at IS NULL THEN
                        UPDATE tenant_user_counts SET live_users = live_users - 1
                        WHERE tenant_id = OLD.tenant_id AND status = OLD.status;
                    END IF;
                    IF NEW.deleted_at IS NULL THEN
                        INSERT INTO tenant_user_counts AS c (tenant_id, status, live_users) VALUES (NEW.tenant_id, NEW.status, 1)
                        ON CONFLICT (tenant_id, status) DO UPDATE SET live_users = c.live_users + 1;
                    END IF;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_count_update AFTER UPDATE OF tenant_id, status, deleted_at ON users FOR EACH ROW
                WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
                    OR (NEW.deleted_at IS NULL AND (OLD.tenant_id <> NEW.tenant_id OR OLD.status <> NEW.status)))
                EXECUTE FUNCTION users_count_update();
                """);
            migrationBuilder.Sql("""
                CREATE FUNCTION users_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM tenant_user_counts;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_count_truncate AFTER TRUNCATE ON users
                FOR EACH STATEMENT EXECUTE FUNCTION users_count_truncate();
                """);
            migrationBuilder.Sql("""
                INSERT INTO tenant_user_counts (tenant_id, status, live_users)
                SELECT tenant_id, status, count(*) FROM users WHERE deleted_at IS NULL GROUP BY tenant_id, status;
                """);

            // Substring search: a trigram GIN index answers search_text LIKE '%term%' for terms with a trigram.
            // pg_trgm is a trusted extension (PostgreSQL 13+): a database owner without superuser may create it.
            // Partial like the list indexes: lists never show soft-deleted users.
            migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS pg_trgm;");
            migrationBuilder.Sql("""
                CREATE INDEX ix_users_search_text_trgm ON users USING gin (search_text gin_trgm_ops)
                WHERE deleted_at IS NULL;
                """);
        }

        public static void Revert(MigrationBuilder migrationBuilder)
        {
            // The extension stays: something else may use it, and dropping it needs more rights than creating it.
            migrationBuilder.Sql("DROP INDEX IF EXISTS ix_users_search_text_trgm;");
            foreach (var name in new[] { "users_count_truncate", "users_count_update", "users_count_delete", "users_count_insert" })
            {
                migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {name} ON users;");
                migrationBuilder.Sql($"DROP FUNCTION IF EXISTS {name}();");
            }
        }
    }
}
