using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Sqlite.Migrations
{
    /// <summary>
    /// Memberships belong to live users of their own tenant, whoever writes (the API, SCIM, a sync, the importer,
    /// SQL): a soft delete of a user removes its memberships, and a membership of a deleted user (or of a user or group
    /// of another tenant) cannot be written. SQLite has one writer at a time and a trigger reads inside the write, so
    /// the two cannot interleave. The user list then takes a group filter's exact total from the memberships alone
    /// (Users/UserListQuery.cs).
    /// </summary>
    public partial class LiveMemberships : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DELETE FROM group_members
                WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = group_members.user_id AND u.tenant_id = group_members.tenant_id AND u.deleted_at IS NULL)
                   OR NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = group_members.group_id AND g.tenant_id = group_members.tenant_id);
                """);

            migrationBuilder.Sql("""
                CREATE TRIGGER users_withdraw_memberships AFTER UPDATE OF deleted_at ON users
                WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
                BEGIN
                    DELETE FROM group_members WHERE user_id = NEW.id;
                END;
                """);
            foreach (var (name, when) in new[] { ("group_members_with_live_users_insert", "BEFORE INSERT"), ("group_members_with_live_users_update", "BEFORE UPDATE") })
            {
                migrationBuilder.Sql($"""
                    CREATE TRIGGER {name} {when} ON group_members
                    WHEN NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id AND tenant_id = NEW.tenant_id AND deleted_at IS NULL)
                        OR NOT EXISTS (SELECT 1 FROM groups WHERE id = NEW.group_id AND tenant_id = NEW.tenant_id)
                    BEGIN
                        SELECT RAISE(ABORT, '{MembershipRules.DeletedUserRefusal}');
                    END;
                    """);
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS group_members_with_live_users_update;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS group_members_with_live_users_insert;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS users_withdraw_memberships;");
        }
    }
}
