using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ScaiKey.Data.Entities;

namespace ScaiKey.Data.Configurations;

internal sealed class AdminClientConfiguration : IEntityTypeConfiguration<AdminClient>
{
    public void Configure(EntityTypeBuilder<AdminClient> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.ClientId).HasMaxLength(Lengths.Name);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.Property(x => x.PartnerId).HasMaxLength(Lengths.Id);
        b.HasIndex(x => x.ClientId).IsUnique();
        b.HasIndex(x => x.PartnerId);
    }
}

internal sealed class ApplicationConfiguration : IEntityTypeConfiguration<Application>
{
    public void Configure(EntityTypeBuilder<Application> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.Property(x => x.Type).HasMaxLength(16);
        b.Property(x => x.ClientId).HasMaxLength(Lengths.Name);
        b.Property(x => x.RedirectUrisJson).HasMaxLength(40_000);
        b.Property(x => x.GrantTypesJson).HasMaxLength(200);
        b.HasIndex(x => x.ClientId).IsUnique();
        b.HasIndex(x => new { x.TenantId, x.Name });
        b.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class UserConsentConfiguration : IEntityTypeConfiguration<UserConsent>
{
    public void Configure(EntityTypeBuilder<UserConsent> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ApplicationId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ScopesJson).HasMaxLength(4_000);
        b.HasIndex(x => new { x.UserId, x.ApplicationId }).IsUnique();
        b.HasIndex(x => x.ApplicationId);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Application>().WithMany().HasForeignKey(x => x.ApplicationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ApplicationAssignmentConfiguration : IEntityTypeConfiguration<ApplicationAssignment>
{
    public void Configure(EntityTypeBuilder<ApplicationAssignment> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ApplicationId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.GroupId).HasMaxLength(Lengths.Id);
        b.HasIndex(x => new { x.ApplicationId, x.UserId }).IsUnique().HasFilter("\"user_id\" IS NOT NULL");
        b.HasIndex(x => new { x.ApplicationId, x.GroupId }).IsUnique().HasFilter("\"group_id\" IS NOT NULL");
        b.HasIndex(x => x.UserId);
        b.HasIndex(x => x.GroupId);
        b.HasOne<Application>().WithMany().HasForeignKey(x => x.ApplicationId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Group>().WithMany().HasForeignKey(x => x.GroupId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class IdentityProviderConfiguration : IEntityTypeConfiguration<IdentityProvider>
{
    public void Configure(EntityTypeBuilder<IdentityProvider> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.Property(x => x.Type).HasMaxLength(8);
        b.Property(x => x.ConfigJson).HasMaxLength(20_000);
        b.Property(x => x.SealedSecrets).HasMaxLength(40_000);
        b.Property(x => x.SyncCursor).HasMaxLength(64);
        b.Property(x => x.SyncLeaseOwner).HasMaxLength(Lengths.Id);
        b.HasIndex(x => new { x.TenantId, x.Name }).IsUnique();
        b.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class FederatedIdentityConfiguration : IEntityTypeConfiguration<FederatedIdentity>
{
    public void Configure(EntityTypeBuilder<FederatedIdentity> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.IdentityProviderId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Subject).HasMaxLength(500);
        b.Property(x => x.Email).HasMaxLength(320);

        // One account at a provider belongs to one user, and a user has at most one account per provider.
        b.HasIndex(x => new { x.IdentityProviderId, x.Subject }).IsUnique();
        b.HasIndex(x => new { x.UserId, x.IdentityProviderId }).IsUnique();
        b.HasIndex(x => x.TenantId);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<IdentityProvider>().WithMany().HasForeignKey(x => x.IdentityProviderId).OnDelete(DeleteBehavior.Restrict);
    }
}
