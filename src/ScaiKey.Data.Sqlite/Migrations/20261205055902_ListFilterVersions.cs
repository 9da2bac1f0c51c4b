using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Sqlite.Migrations
{
    /// <summary>
    /// Every sort and filter of the user list at a million users (issue 18): an index-only walk for sort_by=email, and
    /// a directory version that covers every list filter, so the exact totals of OU, group and MFA filters can be
    /// cached as search totals are (Users/SearchTotals.cs): the version is now also raised by changes of a user's OU
    /// or MFA enrolment and by every change of a group membership.
    /// </summary>
    public partial class ListFilterVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_email_normalized_id",
                table: "users",
                columns: new[] { "tenant_id", "email_normalized", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.Sql("DROP TRIGGER IF EXISTS users_version_update;");
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_update AFTER UPDATE OF tenant_id, status, deleted_at, search_text, ou_id, mfa_enabled ON users
                WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.status IS NOT NEW.status
                    OR OLD.deleted_at IS NOT NEW.deleted_at OR OLD.search_text IS NOT NEW.search_text
                    OR OLD.ou_id IS NOT NEW.ou_id OR OLD.mfa_enabled IS NOT NEW.mfa_enabled
                BEGIN
                    INSERT INTO tenant_directory_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
                    ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
                    UPDATE tenant_directory_versions SET version = version + 1
                    WHERE tenant_id = OLD.tenant_id AND OLD.tenant_id IS NOT NEW.tenant_id;
                END;
                """);

            // Memberships: a delete only updates, as a tenant's cascade delete takes its version row with it.
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_version_insert AFTER INSERT ON group_members BEGIN
                    INSERT INTO tenant_directory_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
                    ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_version_delete AFTER DELETE ON group_members BEGIN
                    UPDATE tenant_directory_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_version_update AFTER UPDATE ON group_members
                WHEN OLD.group_id IS NOT NEW.group_id OR OLD.user_id IS NOT NEW.user_id OR OLD.tenant_id IS NOT NEW.tenant_id
                BEGIN
                    UPDATE tenant_directory_versions SET version = version + 1 WHERE tenant_id IN (OLD.tenant_id, NEW.tenant_id);
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var name in new[] { "group_members_version_update", "group_members_version_delete", "group_members_version_insert" })
            {
                migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {name};");
            }

            migrationBuilder.Sql("DROP TRIGGER IF EXISTS users_version_update;");
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

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_email_normalized_id",
                table: "users");
        }
    }
}
