using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ScaiKey.Data.Entities;

namespace ScaiKey.Data.Configurations;

internal static class Lengths
{
    public const int Id = 36;
    public const int Name = 200;
    public const int Email = 320;
    public const int Slug = 63;
}

internal sealed class PartnerConfiguration : IEntityTypeConfiguration<Partner>
{
    public void Configure(EntityTypeBuilder<Partner> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.HasIndex(x => x.Name).IsUnique();
    }
}

internal sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.PartnerId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.Property(x => x.Slug).HasMaxLength(Lengths.Slug);
        b.HasIndex(x => x.Slug).IsUnique().HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => x.PartnerId);
        b.HasOne<Partner>().WithMany().HasForeignKey(x => x.PartnerId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class OrganizationalUnitConfiguration : IEntityTypeConfiguration<OrganizationalUnit>
{
    public void Configure(EntityTypeBuilder<OrganizationalUnit> b)
    {
        b.ToTable("organizational_units");
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ParentId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.Property(x => x.Path).HasMaxLength(4000);

        // The path embeds every ancestor's name, so this also keeps sibling names unique.
        b.HasIndex(x => new { x.TenantId, x.Path }).IsUnique();
        b.HasIndex(x => new { x.TenantId, x.ParentId });
        b.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<OrganizationalUnit>().WithMany().HasForeignKey(x => x.ParentId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class GroupConfiguration : IEntityTypeConfiguration<Group>
{
    public void Configure(EntityTypeBuilder<Group> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ParentGroupId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Name).HasMaxLength(Lengths.Name);
        b.Property(x => x.Description).HasMaxLength(2000);
        b.HasIndex(x => new { x.TenantId, x.Name }).IsUnique();
        b.HasIndex(x => new { x.TenantId, x.ParentGroupId });
        b.Property(x => x.IdentitySource).HasConversion<WireEnumConverter<IdentitySource>>().HasMaxLength(16);
        b.Property(x => x.IdentityProviderId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ExternalId).HasMaxLength(500);

        // A synced or provisioned group is found again by its external id within the provider that made it.
        b.HasIndex(x => new { x.TenantId, x.IdentityProviderId, x.ExternalId }).IsUnique();
        b.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<Group>().WithMany().HasForeignKey(x => x.ParentGroupId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class GroupMemberConfiguration : IEntityTypeConfiguration<GroupMember>
{
    public void Configure(EntityTypeBuilder<GroupMember> b)
    {
        b.HasKey(x => new { x.GroupId, x.UserId });
        b.Property(x => x.GroupId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.HasIndex(x => new { x.UserId, x.GroupId });
        b.HasIndex(x => x.TenantId);
        b.HasOne<Group>().WithMany().HasForeignKey(x => x.GroupId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.OuId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Email).HasMaxLength(Lengths.Email);
        b.Property(x => x.EmailNormalized).HasMaxLength(Lengths.Email);
        b.Property(x => x.Username).HasMaxLength(Lengths.Name);
        b.Property(x => x.UsernameNormalized).HasMaxLength(Lengths.Name);
        b.Property(x => x.FirstName).HasMaxLength(Lengths.Name);
        b.Property(x => x.LastName).HasMaxLength(Lengths.Name);
        b.Property(x => x.DisplayName).HasMaxLength(Lengths.Name);
        b.Property(x => x.Phone).HasMaxLength(32);
        b.Property(x => x.Locale).HasMaxLength(35);
        b.Property(x => x.Timezone).HasMaxLength(64);
        b.Property(x => x.AvatarUrl).HasMaxLength(2048);
        b.Property(x => x.StatusReason).HasMaxLength(1000);
        b.Property(x => x.PasswordHash).HasMaxLength(512);
        b.Property(x => x.SearchText).HasMaxLength(2000);
        b.Property(x => x.Status).HasConversion<WireEnumConverter<UserStatus>>().HasMaxLength(32);
        b.Property(x => x.IdentitySource).HasConversion<WireEnumConverter<IdentitySource>>().HasMaxLength(16);
        b.Property(x => x.Version).IsConcurrencyToken();

        // Uniqueness lives in the database, so two concurrent creates cannot both win.
        b.HasIndex(x => new { x.TenantId, x.EmailNormalized }).IsUnique().HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => new { x.TenantId, x.UsernameNormalized }).IsUnique()
            .HasFilter("\"deleted_at\" IS NULL AND \"username_normalized\" IS NOT NULL");

        // Lists read only live users, so their indexes hold only live users: a page's ids come from an
        // index-only scan (the id is in the key), never from reading the rows before the offset.
        // Default sort (created_at, ties by id) within a tenant, and across tenants for the admin list.
        b.HasIndex(x => new { x.TenantId, x.CreatedAt, x.Id }).HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => new { x.CreatedAt, x.Id }).HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => new { x.TenantId, x.OuId });
        b.Property(x => x.ExternalId).HasMaxLength(500);

        // SCIM clients look their users up by externalId before they create them.
        b.HasIndex(x => new { x.TenantId, x.ExternalId }).HasFilter("\"deleted_at\" IS NULL AND \"external_id\" IS NOT NULL");

        // A status filter with the default sort ("the locked users, newest first") without visiting other statuses.
        b.HasIndex(x => new { x.TenantId, x.Status, x.CreatedAt, x.Id }).HasFilter("\"deleted_at\" IS NULL");

        // Every other sort_by of the list, in both orders (a backward walk serves the descending one), and the
        // MFA and OU filters with the default sort and their exact totals, as index ranges instead of sorting or
        // counting the tenant's rows. The nullable keys (updated_at, last_login_at) are read non-null part first,
        // then the nulls by id, both from the same index (UserReads.PageAsync). The name sorts order by lower(),
        // which EF cannot index: their expression indexes are raw SQL in the ListSortIndexes migrations.
        b.HasIndex(x => new { x.TenantId, x.UpdatedAt, x.Id }).HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => new { x.TenantId, x.LastLoginAt, x.Id }).HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => new { x.TenantId, x.Status, x.Id }).HasFilter("\"deleted_at\" IS NULL");
        // sort_by=email: the unique index above orders by email alone and holds no id, so a deep page read a row per
        // entry and sorted ties that cannot occur; with the id in the key the walk is index-only and needs no sort.
        b.HasIndex(x => new { x.TenantId, x.EmailNormalized, x.Id }).HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => new { x.TenantId, x.MfaEnabled, x.CreatedAt, x.Id }).HasFilter("\"deleted_at\" IS NULL");
        b.HasIndex(x => new { x.TenantId, x.OuId, x.CreatedAt, x.Id }).HasFilter("\"deleted_at\" IS NULL");

        // Substring search has a provider-specific index created by the UserScale migrations, outside this
        // model: a pg_trgm GIN index on search_text (PostgreSQL), an FTS5 trigram table user_search (SQLite).
        b.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<OrganizationalUnit>().WithMany().HasForeignKey(x => x.OuId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class TenantUserCountConfiguration : IEntityTypeConfiguration<TenantUserCount>
{
    public void Configure(EntityTypeBuilder<TenantUserCount> b)
    {
        b.HasKey(x => new { x.TenantId, x.Status });
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);

        // The same wire text as users.status: the triggers copy that column as it is.
        b.Property(x => x.Status).HasConversion<WireEnumConverter<UserStatus>>().HasMaxLength(32);
        b.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TenantDirectoryVersionConfiguration : IEntityTypeConfiguration<TenantDirectoryVersion>
{
    public void Configure(EntityTypeBuilder<TenantDirectoryVersion> b)
    {
        b.HasKey(x => x.TenantId);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.HasOne<Tenant>().WithMany().HasForeignKey(x => x.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserAgent).HasMaxLength(512);
        b.Property(x => x.IpAddress).HasMaxLength(64);
        b.Property(x => x.Amr).HasMaxLength(64);
        b.HasIndex(x => new { x.UserId, x.RevokedAt });
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TokenGrantConfiguration : IEntityTypeConfiguration<TokenGrant>
{
    public void Configure(EntityTypeBuilder<TokenGrant> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.SessionId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ClientId).HasMaxLength(Lengths.Name);
        b.Property(x => x.RevokedReason).HasMaxLength(64);
        b.HasIndex(x => new { x.UserId, x.RevokedAt });
        b.HasIndex(x => x.SessionId);

        // Deleting an application revokes every grant made to its client.
        b.HasIndex(x => x.ClientId);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<UserSession>().WithMany().HasForeignKey(x => x.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UserActionTokenConfiguration : IEntityTypeConfiguration<UserActionToken>
{
    public void Configure(EntityTypeBuilder<UserActionToken> b)
    {
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.UserId).HasMaxLength(Lengths.Id);
        b.Property(x => x.Purpose).HasMaxLength(32);
        b.Property(x => x.TokenHash).HasMaxLength(64);
        b.Property(x => x.Email).HasMaxLength(Lengths.Email);
        b.HasIndex(x => x.TokenHash).IsUnique();
        b.HasIndex(x => new { x.UserId, x.Purpose });

        // The housekeeping purge finds expired links by this.
        b.HasIndex(x => x.ExpiresAt);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EmailOutboxMessageConfiguration : IEntityTypeConfiguration<EmailOutboxMessage>
{
    public void Configure(EntityTypeBuilder<EmailOutboxMessage> b)
    {
        b.ToTable("email_outbox");
        b.Property(x => x.Id).HasMaxLength(Lengths.Id);
        b.Property(x => x.TenantId).HasMaxLength(Lengths.Id);
        b.Property(x => x.ToAddress).HasMaxLength(Lengths.Email);
        b.Property(x => x.Subject).HasMaxLength(500);
        b.Property(x => x.Kind).HasMaxLength(32);
        b.Property(x => x.LastError).HasMaxLength(1000);
        b.HasIndex(x => new { x.SentAt, x.CreatedAt });
        b.HasIndex(x => new { x.SentAt, x.FailedAt, x.NextAttemptAt });
    }
}
