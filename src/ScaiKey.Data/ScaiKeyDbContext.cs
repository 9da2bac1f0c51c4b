using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using ScaiKey.Data.Entities;

namespace ScaiKey.Data;

public sealed class ScaiKeyDbContext(DbContextOptions<ScaiKeyDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Partner> Partners => Set<Partner>();
    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<OrganizationalUnit> OrganizationalUnits => Set<OrganizationalUnit>();
    public DbSet<Group> Groups => Set<Group>();
    public DbSet<GroupMember> GroupMembers => Set<GroupMember>();
    public DbSet<User> Users => Set<User>();
    public DbSet<TenantUserCount> TenantUserCounts => Set<TenantUserCount>();
    public DbSet<TenantDirectoryVersion> TenantDirectoryVersions => Set<TenantDirectoryVersion>();
    public DbSet<UserSession> UserSessions => Set<UserSession>();
    public DbSet<TokenGrant> TokenGrants => Set<TokenGrant>();
    public DbSet<MfaFactor> MfaFactors => Set<MfaFactor>();
    public DbSet<MfaRecoveryCode> MfaRecoveryCodes => Set<MfaRecoveryCode>();
    public DbSet<MfaChallenge> MfaChallenges => Set<MfaChallenge>();
    public DbSet<UserActionToken> UserActionTokens => Set<UserActionToken>();
    public DbSet<EmailOutboxMessage> EmailOutbox => Set<EmailOutboxMessage>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();
    public DbSet<RoleAssignment> RoleAssignments => Set<RoleAssignment>();
    public DbSet<AdminClient> AdminClients => Set<AdminClient>();
    public DbSet<Application> Applications => Set<Application>();
    public DbSet<ApplicationAssignment> ApplicationAssignments => Set<ApplicationAssignment>();
    public DbSet<UserConsent> UserConsents => Set<UserConsent>();
    public DbSet<IdentityProvider> IdentityProviders => Set<IdentityProvider>();
    public DbSet<FederatedIdentity> FederatedIdentities => Set<FederatedIdentity>();
    public DbSet<IdentityProviderSyncJob> IdentityProviderSyncJobs => Set<IdentityProviderSyncJob>();
    public DbSet<FederationRequest> FederationRequests => Set<FederationRequest>();
    public DbSet<FederationReplay> FederationReplays => Set<FederationReplay>();
    public DbSet<MaintenanceLease> MaintenanceLeases => Set<MaintenanceLease>();
    public DbSet<DataStep> DataSteps => Set<DataStep>();
    public DbSet<ScimToken> ScimTokens => Set<ScimToken>();

    /// <summary>ASP.NET Data Protection's key ring, shared by every instance; each key's XML is sealed under the key-encryption key.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>Options every provider shares: snake_case names and the OpenIddict entity sets.</summary>
    public static DbContextOptionsBuilder ApplyCommonOptions(DbContextOptionsBuilder builder)
    {
        builder.UseSnakeCaseNamingConvention();
        builder.UseOpenIddict();

        // Unique-index violations are expected (concurrent creates) and answered with 409 by the caller;
        // a save that nobody handles is still logged by the API's error middleware.
        builder.ConfigureWarnings(w => w.Log((CoreEventId.SaveChangesFailed, LogLevel.Debug)));
        return builder;
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite hands DateTime back as Unspecified; every timestamp here is UTC.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<string>().AreUnicode();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ScaiKeyDbContext).Assembly);
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
