using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ScaiKey.Data.Entities;

namespace ScaiKey.Data.Configurations;

internal sealed class IdentityProviderSyncJobConfiguration : IEntityTypeConfiguration<IdentityProviderSyncJob>
{
    public void Configure(EntityTypeBuilder<IdentityProviderSyncJob> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.IdentityProviderId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Kind).HasMaxLength(16);
        b.Property(x => x.Status).HasMaxLength(16);
        b.Property(x => x.ErrorDetail).HasMaxLength(4000);
        b.Property(x => x.StartedBy).HasMaxLength(Lengths.Name);
        b.HasIndex(x => new { x.TenantId, x.IdentityProviderId, x.CreatedAt });
        b.HasOne<IdentityProvider>().WithMany().HasForeignKey(x => x.IdentityProviderId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class FederationRequestConfiguration : IEntityTypeConfiguration<FederationRequest>
{
    public void Configure(EntityTypeBuilder<FederationRequest> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.IdentityProviderId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Kind).HasMaxLength(16);
        b.Property(x => x.SealedData).HasMaxLength(20_000);
        b.HasIndex(x => x.ExpiresAt);
        b.HasOne<IdentityProvider>().WithMany().HasForeignKey(x => x.IdentityProviderId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class FederationReplayConfiguration : IEntityTypeConfiguration<FederationReplay>
{
    public void Configure(EntityTypeBuilder<FederationReplay> b)
    {
        b.HasKey(x => new { x.IdentityProviderId, x.AssertionId });
        b.Property(x => x.IdentityProviderId).HasMaxLength(Lengths.Id);
        b.Property(x => x.AssertionId).HasMaxLength(256);
        b.HasIndex(x => x.ExpiresAt);
        b.HasOne<IdentityProvider>().WithMany().HasForeignKey(x => x.IdentityProviderId).OnDelete(DeleteBehavior.Cascade);
    }
}
