using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Federation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Existing providers stay enabled and existing groups are the admins' own (LOCAL).
            migrationBuilder.AddColumn<bool>(
                name: "enabled",
                table: "identity_providers",
                type: "boolean",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "last_synced_at",
                table: "identity_providers",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "sync_cursor",
                table: "identity_providers",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "sync_lease_expires_at",
                table: "identity_providers",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "sync_lease_owner",
                table: "identity_providers",
                type: "character varying(36)",
                maxLength: 36,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "external_id",
                table: "groups",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "identity_provider_id",
                table: "groups",
                type: "character varying(36)",
                maxLength: 36,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "identity_source",
                table: "groups",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "LOCAL");

            migrationBuilder.AddColumn<string>(
                name: "email",
                table: "federated_identities",
                type: "character varying(320)",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "last_sign_in_at",
                table: "federated_identities",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "federation_replays",
                columns: table => new
                {
                    identity_provider_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    assertion_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_federation_replays", x => new { x.identity_provider_id, x.assertion_id });
                    table.ForeignKey(
                        name: "fk_federation_replays_identity_providers_identity_provider_id",
                        column: x => x.identity_provider_id,
                        principalTable: "identity_providers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "federation_requests",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    identity_provider_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    sealed_data = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    consumed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_federation_requests", x => x.id);
                    table.ForeignKey(
                        name: "fk_federation_requests_identity_providers_identity_provider_id",
                        column: x => x.identity_provider_id,
                        principalTable: "identity_providers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "identity_provider_sync_jobs",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    identity_provider_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created = table.Column<int>(type: "integer", nullable: false),
                    updated = table.Column<int>(type: "integer", nullable: false),
                    disabled = table.Column<int>(type: "integer", nullable: false),
                    errors = table.Column<int>(type: "integer", nullable: false),
                    error_detail = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    started_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_identity_provider_sync_jobs", x => x.id);
                    table.ForeignKey(
                        name: "fk_identity_provider_sync_jobs_identity_providers_identity_pro",
                        column: x => x.identity_provider_id,
                        principalTable: "identity_providers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_groups_tenant_id_identity_provider_id_external_id",
                table: "groups",
                columns: new[] { "tenant_id", "identity_provider_id", "external_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_federation_replays_expires_at",
                table: "federation_replays",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_federation_requests_expires_at",
                table: "federation_requests",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_federation_requests_identity_provider_id",
                table: "federation_requests",
                column: "identity_provider_id");

            migrationBuilder.CreateIndex(
                name: "ix_identity_provider_sync_jobs_identity_provider_id",
                table: "identity_provider_sync_jobs",
                column: "identity_provider_id");

            migrationBuilder.CreateIndex(
                name: "ix_identity_provider_sync_jobs_tenant_id_identity_provider_id_",
                table: "identity_provider_sync_jobs",
                columns: new[] { "tenant_id", "identity_provider_id", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "federation_replays");

            migrationBuilder.DropTable(
                name: "federation_requests");

            migrationBuilder.DropTable(
                name: "identity_provider_sync_jobs");

            migrationBuilder.DropIndex(
                name: "ix_groups_tenant_id_identity_provider_id_external_id",
                table: "groups");

            migrationBuilder.DropColumn(
                name: "enabled",
                table: "identity_providers");

            migrationBuilder.DropColumn(
                name: "last_synced_at",
                table: "identity_providers");

            migrationBuilder.DropColumn(
                name: "sync_cursor",
                table: "identity_providers");

            migrationBuilder.DropColumn(
                name: "sync_lease_expires_at",
                table: "identity_providers");

            migrationBuilder.DropColumn(
                name: "sync_lease_owner",
                table: "identity_providers");

            migrationBuilder.DropColumn(
                name: "external_id",
                table: "groups");

            migrationBuilder.DropColumn(
                name: "identity_provider_id",
                table: "groups");

            migrationBuilder.DropColumn(
                name: "identity_source",
                table: "groups");

            migrationBuilder.DropColumn(
                name: "email",
                table: "federated_identities");

            migrationBuilder.DropColumn(
                name: "last_sign_in_at",
                table: "federated_identities");
        }
    }
}
