using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ScaiKey.Data.Entities;

namespace ScaiKey.Data.Configurations;

internal sealed class MfaFactorConfiguration : IEntityTypeConfiguration<MfaFactor>
{
    public void Configure(EntityTypeBuilder<MfaFactor> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Type).HasMaxLength(16);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.Property(x => x.SecretEncrypted).HasMaxLength(512);
        b.Property(x => x.CredentialId).HasMaxLength(1400);
        b.Property(x => x.PublicKey).HasMaxLength(2048);
        b.HasIndex(x => x.UserId);

        // A credential id names one passkey across the tenant: passwordless sign-in finds the user by it.
        b.HasIndex(x => new { x.TenantId, x.CredentialId }).IsUnique();
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MfaRecoveryCodeConfiguration : IEntityTypeConfiguration<MfaRecoveryCode>
{
    public void Configure(EntityTypeBuilder<MfaRecoveryCode> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.CodeHash).HasMaxLength(64);
        b.HasIndex(x => new { x.UserId, x.CodeHash });
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MfaChallengeConfiguration : IEntityTypeConfiguration<MfaChallenge>
{
    public void Configure(EntityTypeBuilder<MfaChallenge> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Purpose).HasMaxLength(32);
        b.Property(x => x.TokenHash).HasMaxLength(64);
        b.Property(x => x.ClientId).HasMaxLength(Lengths.Name);
        b.HasIndex(x => x.TokenHash).IsUnique();
        b.HasIndex(x => x.ExpiresAt);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
