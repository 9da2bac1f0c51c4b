using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ScaiKey.Data.Entities;

namespace ScaiKey.Data.Configurations;

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ActorType).HasMaxLength(16);
        b.Property(x => x.ActorId).HasMaxLength(Lengths.Name);
        b.Property(x => x.Action).HasMaxLength(64);
        b.Property(x => x.TargetType).HasMaxLength(32);
        b.Property(x => x.TargetId).HasMaxLength(Lengths.Name);
        b.Property(x => x.Reason).HasMaxLength(1000);
        b.Property(x => x.RequestId).HasMaxLength(128);
        b.Property(x => x.IpAddress).HasMaxLength(64);
        b.HasIndex(x => new { x.TenantId, x.CreatedAt });
        b.HasIndex(x => new { x.TenantId, x.TargetId });
    }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.PrincipalId).HasMaxLength(Lengths.Name);
        b.Property(x => x.Scope).HasMaxLength(200);
        b.Property(x => x.Key).HasMaxLength(255);
        b.Property(x => x.RequestHash).HasMaxLength(64);
        b.Property(x => x.ResponseEtag).HasMaxLength(64);
        b.Property(x => x.ResponseLocation).HasMaxLength(500);
        b.HasIndex(x => new { x.PrincipalId, x.Scope, x.Key }).IsUnique();
        b.HasIndex(x => x.CreatedAt);
    }
}

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> b)
    {
        b.Property(x => x.Id).HasMaxLength(64);
        b.Property(x => x.Use).HasMaxLength(8);
        b.Property(x => x.Algorithm).HasMaxLength(16);
        b.Property(x => x.EncryptedKey).HasMaxLength(8000);
        b.HasIndex(x => new { x.Use, x.RetiredAt });
    }
}

internal sealed class RoleAssignmentConfiguration : IEntityTypeConfiguration<RoleAssignment>
{
    public void Configure(EntityTypeBuilder<RoleAssignment> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.PrincipalType).HasMaxLength(8);
        b.Property(x => x.PrincipalId).HasMaxLength(Lengths.Name);
        b.Property(x => x.Role).HasMaxLength(32);
        b.Property(x => x.PartnerId).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.HasIndex(x => new { x.PrincipalType, x.PrincipalId });

        // The same grant twice would make revoking it ambiguous; NULLs are distinct in unique indexes, so one per scope kind.
        b.HasIndex(x => new { x.PrincipalType, x.PrincipalId, x.Role }).IsUnique()
            .HasFilter("\"partner_id\" IS NULL AND \"tenant_id\" IS NULL").HasDatabaseName("ix_role_assignments_platform_grant");
        b.HasIndex(x => new { x.PrincipalType, x.PrincipalId, x.Role, x.PartnerId }).IsUnique()
            .HasFilter("\"partner_id\" IS NOT NULL").HasDatabaseName("ix_role_assignments_partner_grant");
        b.HasIndex(x => new { x.PrincipalType, x.PrincipalId, x.Role, x.TenantId }).IsUnique()
            .HasFilter("\"tenant_id\" IS NOT NULL").HasDatabaseName("ix_role_assignments_tenant_grant");
        b.HasIndex(x => x.TenantId);
        b.HasIndex(x => x.PartnerId);
    }
}

internal sealed class DataStepConfiguration : IEntityTypeConfiguration<DataStep>
{
    public void Configure(EntityTypeBuilder<DataStep> b)
    {
        b.HasKey(x => x.Name);
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.ClaimedBy).HasMaxLength(200);
    }
}

internal sealed class MaintenanceLeaseConfiguration : IEntityTypeConfiguration<MaintenanceLease>
{
    public void Configure(EntityTypeBuilder<MaintenanceLease> b)
    {
        b.HasKey(x => x.Name);
        b.Property(x => x.Name).HasMaxLength(64);
        b.Property(x => x.Owner).HasMaxLength(Lengths.Id);
    }
}
