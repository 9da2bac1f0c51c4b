using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class TokenModel : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Existing applications are not first-party, so their users are asked to consent (issue: token model).
            migrationBuilder.AddColumn<bool>(
                name: "assignment_required",
                table: "applications",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "consent_required",
                table: "applications",
                type: "boolean",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<bool>(
                name: "first_party",
                table: "applications",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "user_consents",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    user_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    application_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    scopes_json = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_user_consents", x => x.id);
                    table.ForeignKey(
                        name: "fk_user_consents_applications_application_id",
                        column: x => x.application_id,
                        principalTable: "applications",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_user_consents_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_token_grants_client_id",
                table: "token_grants",
                column: "client_id");

            migrationBuilder.CreateIndex(
                name: "ix_user_consents_application_id",
                table: "user_consents",
                column: "application_id");

            migrationBuilder.CreateIndex(
                name: "ix_user_consents_user_id_application_id",
                table: "user_consents",
                columns: new[] { "user_id", "application_id" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "user_consents");

            migrationBuilder.DropIndex(
                name: "ix_token_grants_client_id",
                table: "token_grants");

            migrationBuilder.DropColumn(
                name: "assignment_required",
                table: "applications");

            migrationBuilder.DropColumn(
                name: "consent_required",
                table: "applications");

            migrationBuilder.DropColumn(
                name: "first_party",
                table: "applications");
        }
    }
}
