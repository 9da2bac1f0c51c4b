using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class DirectoryVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "tenant_directory_versions",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenant_directory_versions", x => x.tenant_id);
                    table.ForeignKey(
                        name: "fk_tenant_directory_versions_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            // Raised by triggers, never by the application (see TenantDirectoryVersion): inserts and deletes once per
            // statement over the transition table (a COPY of a million users bumps once), updates only when a column
            // that decides whether a user matches a search changed.
            migrationBuilder.Sql("""
                CREATE FUNCTION users_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        INSERT INTO tenant_directory_versions AS v (tenant_id, version)
                        SELECT DISTINCT tenant_id, 1 FROM changed_users ORDER BY tenant_id
                        ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
                    ELSIF TG_OP = 'DELETE' THEN
                        UPDATE tenant_directory_versions SET version = version + 1
                        WHERE tenant_id IN (SELECT DISTINCT tenant_id FROM changed_users);
                    ELSIF TG_OP = 'UPDATE' THEN
                        INSERT INTO tenant_directory_versions AS v (tenant_id, version) VALUES (NEW.tenant_id, 1)
                        ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
                        IF OLD.tenant_id <> NEW.tenant_id THEN
                            UPDATE tenant_directory_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
                        END IF;
                    ELSE
                        UPDATE tenant_directory_versions SET version = version + 1;
                    END IF;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_insert AFTER INSERT ON users REFERENCING NEW TABLE AS changed_users
                FOR EACH STATEMENT EXECUTE FUNCTION users_version_bump();
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_delete AFTER DELETE ON users REFERENCING OLD TABLE AS changed_users
                FOR EACH STATEMENT EXECUTE FUNCTION users_version_bump();
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_update AFTER UPDATE OF tenant_id, status, deleted_at, search_text ON users FOR EACH ROW
                WHEN (OLD.tenant_id <> NEW.tenant_id OR OLD.status <> NEW.status
                    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.search_text <> NEW.search_text)
                EXECUTE FUNCTION users_version_bump();
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_truncate AFTER TRUNCATE ON users
                FOR EACH STATEMENT EXECUTE FUNCTION users_version_bump();
                """);
            migrationBuilder.Sql("INSERT INTO tenant_directory_versions (tenant_id, version) SELECT id, 0 FROM tenants;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var name in new[] { "users_version_truncate", "users_version_update", "users_version_delete", "users_version_insert" })
            {
                migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {name} ON users;");
            }

            migrationBuilder.Sql("DROP FUNCTION IF EXISTS users_version_bump();");
            migrationBuilder.DropTable(
                name: "tenant_directory_versions");
        }
    }
}
