using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class SignIn : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "claimed_until",
                table: "email_outbox",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "failed_at",
                table: "email_outbox",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "last_error",
                table: "email_outbox",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "next_attempt_at",
                table: "email_outbox",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "token_grants",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    user_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    session_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    client_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    refresh_generation = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    code_redeemed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_refreshed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revoked_reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_token_grants", x => x.id);
                    table.ForeignKey(
                        name: "fk_token_grants_user_sessions_session_id",
                        column: x => x.session_id,
                        principalTable: "user_sessions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_token_grants_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_email_outbox_sent_at_failed_at_next_attempt_at",
                table: "email_outbox",
                columns: new[] { "sent_at", "failed_at", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "ix_token_grants_session_id",
                table: "token_grants",
                column: "session_id");

            migrationBuilder.CreateIndex(
                name: "ix_token_grants_user_id_revoked_at",
                table: "token_grants",
                columns: new[] { "user_id", "revoked_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "token_grants");

            migrationBuilder.DropIndex(
                name: "ix_email_outbox_sent_at_failed_at_next_attempt_at",
                table: "email_outbox");

            migrationBuilder.DropColumn(
                name: "claimed_until",
                table: "email_outbox");

            migrationBuilder.DropColumn(
                name: "failed_at",
                table: "email_outbox");

            migrationBuilder.DropColumn(
                name: "last_error",
                table: "email_outbox");

            migrationBuilder.DropColumn(
                name: "next_attempt_at",
                table: "email_outbox");
        }
    }
}
