using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Housekeeping : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "maintenance_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    owner = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_maintenance_leases", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "ix_user_action_tokens_expires_at",
                table: "user_action_tokens",
                column: "expires_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "maintenance_leases");

            migrationBuilder.DropIndex(
                name: "ix_user_action_tokens_expires_at",
                table: "user_action_tokens");
        }
    }
}
