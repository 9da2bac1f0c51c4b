using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Sqlite.Migrations
{
    /// <summary>
    /// Memberships belong to live users only, whoever writes (the API, SCIM, a sync, the importer, SQL): a soft delete
    /// of a user removes its memberships, and a membership of a deleted user cannot be added. SQLite has one writer at
    /// a time and a trigger reads inside the write, so the two cannot interleave. The user list then takes a group
    /// filter's exact total from the memberships alone (Users/UserListQuery.cs).
    /// </summary>
    public partial class LiveMemberships : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DELETE FROM group_members WHERE user_id IN (SELECT id FROM users WHERE deleted_at IS NOT NULL);");

            migrationBuilder.Sql("""
                CREATE TRIGGER users_drop_memberships AFTER UPDATE OF deleted_at ON users
                WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
                BEGIN
                    DELETE FROM group_members WHERE user_id = NEW.id;
                END;
                """);
            foreach (var (name, when) in new[] { ("group_members_live_user", "BEFORE INSERT"), ("group_members_live_user_update", "BEFORE UPDATE OF user_id") })
            {
                migrationBuilder.Sql($"""
                    CREATE TRIGGER {name} {when} ON group_members
                    WHEN NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id AND deleted_at IS NULL)
                    BEGIN
                        SELECT RAISE(ABORT, '{MembershipRules.DeletedUserRefusal}');
                    END;
                    """);
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS group_members_live_user_update;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS group_members_live_user;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS users_drop_memberships;");
        }
    }
}
