using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class MfaAndAccount : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "amr",
                table: "user_sessions",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "authenticated_at",
                table: "user_sessions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "email",
                table: "user_action_tokens",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "confirmed_at",
                table: "mfa_factors",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "credential_id",
                table: "mfa_factors",
                type: "TEXT",
                maxLength: 1400,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "last_used_at",
                table: "mfa_factors",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "last_used_step",
                table: "mfa_factors",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "public_key",
                table: "mfa_factors",
                type: "BLOB",
                maxLength: 2048,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "sign_count",
                table: "mfa_factors",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "mfa_challenges",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    user_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: true),
                    purpose = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    token_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    client_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    data = table.Column<string>(type: "TEXT", nullable: true),
                    failed_attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    expires_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    used_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_mfa_challenges", x => x.id);
                    table.ForeignKey(
                        name: "fk_mfa_challenges_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "mfa_recovery_codes",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    user_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    code_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    used_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_mfa_recovery_codes", x => x.id);
                    table.ForeignKey(
                        name: "fk_mfa_recovery_codes_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_mfa_factors_tenant_id_credential_id",
                table: "mfa_factors",
                columns: new[] { "tenant_id", "credential_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_mfa_challenges_expires_at",
                table: "mfa_challenges",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_mfa_challenges_token_hash",
                table: "mfa_challenges",
                column: "token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_mfa_challenges_user_id",
                table: "mfa_challenges",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_mfa_recovery_codes_user_id_code_hash",
                table: "mfa_recovery_codes",
                columns: new[] { "user_id", "code_hash" });

            // Before this migration a factor row was only ever a finished enrolment (tests and imports made them).
            migrationBuilder.Sql("UPDATE mfa_factors SET confirmed_at = created_at WHERE confirmed_at IS NULL;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "mfa_challenges");

            migrationBuilder.DropTable(
                name: "mfa_recovery_codes");

            migrationBuilder.DropIndex(
                name: "ix_mfa_factors_tenant_id_credential_id",
                table: "mfa_factors");

            migrationBuilder.DropColumn(
                name: "amr",
                table: "user_sessions");

            migrationBuilder.DropColumn(
                name: "authenticated_at",
                table: "user_sessions");

            migrationBuilder.DropColumn(
                name: "email",
                table: "user_action_tokens");

            migrationBuilder.DropColumn(
                name: "confirmed_at",
                table: "mfa_factors");

            migrationBuilder.DropColumn(
                name: "credential_id",
                table: "mfa_factors");

            migrationBuilder.DropColumn(
                name: "last_used_at",
                table: "mfa_factors");

            migrationBuilder.DropColumn(
                name: "last_used_step",
                table: "mfa_factors");

            migrationBuilder.DropColumn(
                name: "public_key",
                table: "mfa_factors");

            migrationBuilder.DropColumn(
                name: "sign_count",
                table: "mfa_factors");
        }
    }
}
