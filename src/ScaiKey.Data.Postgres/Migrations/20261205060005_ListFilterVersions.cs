using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <summary>
    /// Every sort and filter of the user list at a million users (issue 18): an index-only walk for sort_by=email and
    /// the name sorts, and a directory version that covers every list filter, so the exact totals of OU, group and MFA
    /// filters can be cached as search totals are (Users/SearchTotals.cs): the version is now also raised by changes
    /// of a user's OU or MFA enrolment and by every change of a group membership.
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

            migrationBuilder.Sql(NameSortIndexes.CoverPostgres);

            // users_version_bump (DirectoryVersions) handles any row update; only the columns and the test change.
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS users_version_update ON users;");
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_update AFTER UPDATE OF tenant_id, status, deleted_at, search_text, ou_id, mfa_enabled ON users
                FOR EACH ROW
                WHEN (OLD.tenant_id <> NEW.tenant_id OR OLD.status <> NEW.status
                    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.search_text <> NEW.search_text
                    OR OLD.ou_id IS DISTINCT FROM NEW.ou_id OR OLD.mfa_enabled <> NEW.mfa_enabled)
                EXECUTE FUNCTION users_version_bump();
                """);

            // Memberships: inserts and deletes once per statement over the transition table (a sync that adds a
            // thousand members bumps once); a delete only updates, as a tenant's cascade delete takes its version
            // row with it and an insert there would break the foreign key.
            migrationBuilder.Sql("""
                CREATE FUNCTION group_members_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        INSERT INTO tenant_directory_versions AS v (tenant_id, version)
                        SELECT DISTINCT tenant_id, 1 FROM changed_members ORDER BY tenant_id
                        ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
                    ELSIF TG_OP = 'DELETE' THEN
                        UPDATE tenant_directory_versions SET version = version + 1
                        WHERE tenant_id IN (SELECT DISTINCT tenant_id FROM changed_members);
                    ELSIF TG_OP = 'UPDATE' THEN
                        UPDATE tenant_directory_versions SET version = version + 1
                        WHERE tenant_id IN (OLD.tenant_id, NEW.tenant_id);
                    ELSE
                        UPDATE tenant_directory_versions SET version = version + 1;
                    END IF;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_version_insert AFTER INSERT ON group_members REFERENCING NEW TABLE AS changed_members
                FOR EACH STATEMENT EXECUTE FUNCTION group_members_version_bump();
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_version_delete AFTER DELETE ON group_members REFERENCING OLD TABLE AS changed_members
                FOR EACH STATEMENT EXECUTE FUNCTION group_members_version_bump();
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_version_update AFTER UPDATE ON group_members FOR EACH ROW
                WHEN (OLD.group_id <> NEW.group_id OR OLD.user_id <> NEW.user_id OR OLD.tenant_id <> NEW.tenant_id)
                EXECUTE FUNCTION group_members_version_bump();
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_version_truncate AFTER TRUNCATE ON group_members
                FOR EACH STATEMENT EXECUTE FUNCTION group_members_version_bump();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var name in new[] { "group_members_version_truncate", "group_members_version_update", "group_members_version_delete", "group_members_version_insert" })
            {
                migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {name} ON group_members;");
            }

            migrationBuilder.Sql("DROP FUNCTION IF EXISTS group_members_version_bump();");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS users_version_update ON users;");
            migrationBuilder.Sql("""
                CREATE TRIGGER users_version_update AFTER UPDATE OF tenant_id, status, deleted_at, search_text ON users FOR EACH ROW
                WHEN (OLD.tenant_id <> NEW.tenant_id OR OLD.status <> NEW.status
                    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.search_text <> NEW.search_text)
                EXECUTE FUNCTION users_version_bump();
                """);
            migrationBuilder.Sql(NameSortIndexes.UncoverPostgres);

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_email_normalized_id",
                table: "users");
        }
    }
}
