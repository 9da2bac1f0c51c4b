using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <summary>
    /// Every sort_by of the user list and its MFA and OU filters served by an index of live users (issue 18): the
    /// model's indexes, and the name sorts' expression indexes that EF cannot declare (<see cref="NameSortIndexes"/>).
    /// </summary>
    public partial class ListSortIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_last_login_at_id",
                table: "users",
                columns: new[] { "tenant_id", "last_login_at", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_mfa_enabled_created_at_id",
                table: "users",
                columns: new[] { "tenant_id", "mfa_enabled", "created_at", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_ou_id_created_at_id",
                table: "users",
                columns: new[] { "tenant_id", "ou_id", "created_at", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_status_id",
                table: "users",
                columns: new[] { "tenant_id", "status", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_users_tenant_id_updated_at_id",
                table: "users",
                columns: new[] { "tenant_id", "updated_at", "id" },
                filter: "\"deleted_at\" IS NULL");

            migrationBuilder.Sql(NameSortIndexes.Apply);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(NameSortIndexes.Revert);

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_last_login_at_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_mfa_enabled_created_at_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_ou_id_created_at_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_status_id",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_tenant_id_updated_at_id",
                table: "users");
        }
    }
}
