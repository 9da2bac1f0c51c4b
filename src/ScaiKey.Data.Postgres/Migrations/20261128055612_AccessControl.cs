using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ScaiKey.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AccessControl : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "admin_clients",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    client_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    partner_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_admin_clients", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "applications",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    client_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    redirect_uris_json = table.Column<string>(type: "character varying(40000)", maxLength: 40000, nullable: false),
                    grant_types_json = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_applications", x => x.id);
                    table.ForeignKey(
                        name: "fk_applications_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "identity_providers",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    type = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    config_json = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    sealed_secrets = table.Column<string>(type: "character varying(40000)", maxLength: 40000, nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_identity_providers", x => x.id);
                    table.ForeignKey(
                        name: "fk_identity_providers_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "application_assignments",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    application_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    user_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: true),
                    group_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_application_assignments", x => x.id);
                    table.ForeignKey(
                        name: "fk_application_assignments_applications_application_id",
                        column: x => x.application_id,
                        principalTable: "applications",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_application_assignments_groups_group_id",
                        column: x => x.group_id,
                        principalTable: "groups",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_application_assignments_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "federated_identities",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    user_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    identity_provider_id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    subject = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_federated_identities", x => x.id);
                    table.ForeignKey(
                        name: "fk_federated_identities_identity_providers_identity_provider_id",
                        column: x => x.identity_provider_id,
                        principalTable: "identity_providers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_federated_identities_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_role_assignments_partner_grant",
                table: "role_assignments",
                columns: new[] { "principal_type", "principal_id", "role", "partner_id" },
                unique: true,
                filter: "\"partner_id\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_role_assignments_partner_id",
                table: "role_assignments",
                column: "partner_id");

            migrationBuilder.CreateIndex(
                name: "ix_role_assignments_platform_grant",
                table: "role_assignments",
                columns: new[] { "principal_type", "principal_id", "role" },
                unique: true,
                filter: "\"partner_id\" IS NULL AND \"tenant_id\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_role_assignments_tenant_grant",
                table: "role_assignments",
                columns: new[] { "principal_type", "principal_id", "role", "tenant_id" },
                unique: true,
                filter: "\"tenant_id\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_role_assignments_tenant_id",
                table: "role_assignments",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_admin_clients_client_id",
                table: "admin_clients",
                column: "client_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_admin_clients_partner_id",
                table: "admin_clients",
                column: "partner_id");

            migrationBuilder.CreateIndex(
                name: "ix_application_assignments_application_id_group_id",
                table: "application_assignments",
                columns: new[] { "application_id", "group_id" },
                unique: true,
                filter: "\"group_id\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_application_assignments_application_id_user_id",
                table: "application_assignments",
                columns: new[] { "application_id", "user_id" },
                unique: true,
                filter: "\"user_id\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_application_assignments_group_id",
                table: "application_assignments",
                column: "group_id");

            migrationBuilder.CreateIndex(
                name: "ix_application_assignments_user_id",
                table: "application_assignments",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_applications_client_id",
                table: "applications",
                column: "client_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_applications_tenant_id_name",
                table: "applications",
                columns: new[] { "tenant_id", "name" });

            migrationBuilder.CreateIndex(
                name: "ix_federated_identities_identity_provider_id_subject",
                table: "federated_identities",
                columns: new[] { "identity_provider_id", "subject" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_federated_identities_tenant_id",
                table: "federated_identities",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_federated_identities_user_id_identity_provider_id",
                table: "federated_identities",
                columns: new[] { "user_id", "identity_provider_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_identity_providers_tenant_id_name",
                table: "identity_providers",
                columns: new[] { "tenant_id", "name" },
                unique: true);

            // Service clients created before admin clients had their own table (the bootstrap client) become admin clients.
            migrationBuilder.Sql(
                "INSERT INTO admin_clients (id, client_id, name, partner_id, created_at) " +
                "SELECT MIN(r.id), r.principal_id, COALESCE(MIN(a.display_name), r.principal_id), NULL, MIN(r.created_at) " +
                "FROM role_assignments r LEFT JOIN \"OpenIddictApplications\" a ON a.client_id = r.principal_id " +
                "WHERE r.principal_type = 'CLIENT' GROUP BY r.principal_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "admin_clients");

            migrationBuilder.DropTable(
                name: "application_assignments");

            migrationBuilder.DropTable(
                name: "federated_identities");

            migrationBuilder.DropTable(
                name: "applications");

            migrationBuilder.DropTable(
                name: "identity_providers");

            migrationBuilder.DropIndex(
                name: "ix_role_assignments_partner_grant",
                table: "role_assignments");

            migrationBuilder.DropIndex(
                name: "ix_role_assignments_partner_id",
                table: "role_assignments");

            migrationBuilder.DropIndex(
                name: "ix_role_assignments_platform_grant",
                table: "role_assignments");

            migrationBuilder.DropIndex(
                name: "ix_role_assignments_tenant_grant",
                table: "role_assignments");

            migrationBuilder.DropIndex(
                name: "ix_role_assignments_tenant_id",
                table: "role_assignments");
        }
    }
}
