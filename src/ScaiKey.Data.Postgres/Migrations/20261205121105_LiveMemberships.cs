using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <summary>
    /// Memberships belong to live users of their own tenant, whoever writes (the API, SCIM, a sync, the importer,
    /// SQL): a soft delete of a user removes its memberships, a membership of a deleted user (or of a user or group of
    /// another tenant) cannot be written, also when the write and the delete happen at once. The user list can then
    /// take a group filter's exact total from the memberships alone (Users/UserListQuery.cs): tens of milliseconds
    /// where counting the group's users among a million took up to 2 s on PostgreSQL.
    /// </summary>
    public partial class LiveMemberships : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DELETE FROM group_members m
                WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id AND u.tenant_id = m.tenant_id AND u.deleted_at IS NULL)
                   OR NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = m.group_id AND g.tenant_id = m.tenant_id);
                """);

            // Both triggers run after the directory-version triggers of the same event (PostgreSQL fires them in name
            // order: "users_version_update" < "users_withdraw_memberships", "group_members_version_*" <
            // "group_members_with_live_users_*"). Taking the tenant's version row first is what makes a membership
            // insert and a soft delete of its user at once safe: the second to reach that row waits for the first to
            // commit, and its next statement sees the first's work (read committed takes a snapshot per statement).
            // Deleted first: the insert's check then sees the user deleted and refuses. Inserted first: the delete's
            // DELETE then sees the membership and removes it. No row lock is added beyond the version row both
            // already take, so this adds no lock order (a FOR SHARE of the user did: it deadlocked with user updates).
            migrationBuilder.Sql("""
                CREATE FUNCTION users_withdraw_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM group_members WHERE user_id = NEW.id;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER users_withdraw_memberships AFTER UPDATE OF deleted_at ON users FOR EACH ROW
                WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
                EXECUTE FUNCTION users_withdraw_memberships();
                """);

            // A membership names a live user and a group of its own tenant; 23503 (foreign key violation) is what the
            // code already answers 409 for. Statement-level over the transition table: one check per statement.
            migrationBuilder.Sql("""
                CREATE FUNCTION group_members_with_live_users() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM written_members m
                               LEFT JOIN users u ON u.id = m.user_id AND u.tenant_id = m.tenant_id AND u.deleted_at IS NULL
                               LEFT JOIN groups g ON g.id = m.group_id AND g.tenant_id = m.tenant_id
                               WHERE u.id IS NULL OR g.id IS NULL) THEN
                        RAISE EXCEPTION 'group_members: the user is deleted or not of the tenant' USING ERRCODE = 'foreign_key_violation';
                    END IF;
                    RETURN NULL;
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_with_live_users_insert AFTER INSERT ON group_members REFERENCING NEW TABLE AS written_members
                FOR EACH STATEMENT EXECUTE FUNCTION group_members_with_live_users();
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER group_members_with_live_users_update AFTER UPDATE ON group_members REFERENCING NEW TABLE AS written_members
                FOR EACH STATEMENT EXECUTE FUNCTION group_members_with_live_users();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS group_members_with_live_users_update ON group_members;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS group_members_with_live_users_insert ON group_members;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS group_members_with_live_users();");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS users_withdraw_memberships ON users;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS users_withdraw_memberships();");
        }
    }
}
