using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Sqlite.Migrations
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
                    tenant_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    version = table.Column<long>(type: "INTEGER", nullable: false)
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

            // Raised by triggers, never by the application (see TenantDirectoryVersion): on every insert and delete,
            // and on updates of a column that decides whether a user matches a search.
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_insert AFTER INSERT ON users BEGIN
                    INSERT INTO tenant_directory_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
                    ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_delete AFTER DELETE ON users BEGIN
                    UPDATE tenant_directory_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_update AFTER UPDATE OF tenant_id, status, deleted_at, search_text ON users
                WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.status IS NOT NEW.status
                    OR OLD.deleted_at IS NOT NEW.deleted_at OR OLD.search_text IS NOT NEW.search_text
                BEGIN
                    INSERT INTO tenant_directory_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
                    ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
                    UPDATE tenant_directory_versions SET version = version + 1
                    WHERE tenant_id = OLD.tenant_id AND OLD.tenant_id IS NOT NEW.tenant_id;
                END;
                """);
            migrationBuilder.Sql("INSERT INTO tenant_directory_versions (tenant_id, version) SELECT id, 0 FROM tenants;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var name in new[] { "users_version_update", "users_version_delete", "users_version_insert" })
            {
                migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {name};");
            }

            migrationBuilder.DropTable(
                name: "tenant_directory_versions");
        }
    }
}
