using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <summary>
    /// The tenant's default-order index carries each user's search text (INCLUDE), so a search that walks the
    /// newest users testing the term (a common term's first pages, UserReads.ScanInOrderAsync) reads only the index:
    /// the rows of a tenant sit among other tenants' rows in the heap, and fetching each one walked is a random read.
    /// Same name and key as the model's index, so the model and later migrations still see it as theirs; a migration
    /// that rebuilds this index must keep the INCLUDE (UserListScaleTests checks it).
    /// </summary>
    public partial class SearchWalkIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP INDEX IF EXISTS ix_users_tenant_id_created_at_id;
                CREATE INDEX ix_users_tenant_id_created_at_id ON users (tenant_id, created_at, id) INCLUDE (search_text)
                    WHERE deleted_at IS NULL;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP INDEX IF EXISTS ix_users_tenant_id_created_at_id;
                CREATE INDEX ix_users_tenant_id_created_at_id ON users (tenant_id, created_at, id) WHERE deleted_at IS NULL;
                """);
        }
    }
}
