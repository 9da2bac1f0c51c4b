using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.OAuth;

/// <summary>
/// First start: when no platform admin exists, create one from ScaiKey:Bootstrap settings, or a service
/// client with a random secret whose credentials are printed once to the console (never to the log).
/// </summary>
internal sealed class Bootstrap(
    ScaiKeyDbContext db,
    IOpenIddictApplicationManager applications,
    PasswordHasher hasher,
    Microsoft.Extensions.Options.IOptions<BootstrapOptions> bootstrap,
    Microsoft.Extensions.Options.IOptions<ConsoleClientOptions> consoleClient,
    ILogger<Bootstrap> logger)
{
    public const string PlatformTenantSlug = "platform";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await ConsoleClient.EnsureAsync(applications, consoleClient.Value, cancellationToken);
        await MfaGrant.AllowForPasswordClientsAsync(db, applications, cancellationToken);
        if (await db.RoleAssignments.AnyAsync(r => r.Role == Roles.PlatformAdmin, cancellationToken))
        {
            return;
        }

        var (clientId, clientSecret, adminEmail, adminPassword) =
            (bootstrap.Value.ClientId, bootstrap.Value.ClientSecret, bootstrap.Value.AdminEmail, bootstrap.Value.AdminPassword);

        if (!string.IsNullOrEmpty(adminEmail) && !string.IsNullOrEmpty(adminPassword))
        {
            await CreateAdminUserAsync(adminEmail, adminPassword, cancellationToken);
        }

        if (!string.IsNullOrEmpty(clientId) && !string.IsNullOrEmpty(clientSecret))
        {
            await CreateAdminClientAsync(clientId, clientSecret, "Bootstrap platform admin", cancellationToken);
        }
        else if (string.IsNullOrEmpty(adminEmail))
        {
            var generatedId = "scaikey-admin-" + SecretGenerator.Token(6).ToLowerInvariant().Replace('_', 'x').Replace('-', 'x');
            var generatedSecret = SecretGenerator.Token(32);
            await CreateAdminClientAsync(generatedId, generatedSecret, "Bootstrap platform admin", cancellationToken);

            // Deliberately the console, not ILogger: log sinks must never receive a secret.
            Console.WriteLine();
            Console.WriteLine("==================== ScaiKey bootstrap ====================");
            Console.WriteLine("A platform-admin service client was created. Its secret is shown only now:");
            Console.WriteLine($"  client_id:     {generatedId}");
            Console.WriteLine($"  client_secret: {generatedSecret}");
            Console.WriteLine("Get a token: curl -u <client_id>:<client_secret> -d grant_type=client_credentials <base-url>/connect/token");
            Console.WriteLine("============================================================");
            Console.WriteLine();
        }
    }

    public async Task CreateAdminClientAsync(string clientId, string clientSecret, string name, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is null)
        {
            await applications.CreateAsync(AdminClientDescriptor(clientId, clientSecret, name), cancellationToken);
        }

        if (!await db.AdminClients.AnyAsync(c => c.ClientId == clientId, cancellationToken))
        {
            db.AdminClients.Add(new AdminClient { Id = Ids.New(), ClientId = clientId, Name = name, CreatedAt = TimeProvider.System.UtcNow() });
        }

        db.RoleAssignments.Add(new RoleAssignment
        {
            Id = Ids.New(),
            PrincipalType = PrincipalTypes.Client,
            PrincipalId = clientId,
            Role = Roles.PlatformAdmin,
            CreatedAt = TimeProvider.System.UtcNow(),
        });
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Bootstrap: platform-admin service client {ClientId} is ready", clientId);
    }

    public static OpenIddictApplicationDescriptor AdminClientDescriptor(string clientId, string clientSecret, string name) => new()
    {
        ClientId = clientId,
        ClientSecret = clientSecret,
        ClientType = ClientTypes.Confidential,
        DisplayName = name,
        Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
    };

    private async Task CreateAdminUserAsync(string email, string password, CancellationToken cancellationToken)
    {
        // A platform admin user needs a home directory; the "platform" tenant holds platform staff.
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Slug == PlatformTenantSlug && t.DeletedAt == null, cancellationToken);
        if (tenant is null)
        {
            tenant = new Tenant
            {
                Id = Ids.New(),
                Name = "Platform",
                Slug = PlatformTenantSlug,
                SettingsJson = TenantSettings.Default.ToJson(),
                CreatedAt = TimeProvider.System.UtcNow(),
            };
            db.Tenants.Add(tenant);
        }

        var normalized = Users.EmailAddresses.Normalize(email);
        var user = new User
        {
            Id = Ids.New(),
            TenantId = tenant.Id,
            Email = email.Trim(),
            EmailNormalized = normalized,
            Locale = "en",
            Timezone = "UTC",
            EmailVerified = true,
            Status = UserStatus.Active,
            IdentitySource = IdentitySource.Local,
            PasswordHash = hasher.Hash(password),
            PasswordChangedAt = TimeProvider.System.UtcNow(),
            SearchText = string.Empty,
            CreatedAt = TimeProvider.System.UtcNow(),
        };

        // Searched as shown (a Unicode domain), not by its IDNA key.
        user.SearchText = Users.UserInput.SearchText(user);
        db.Users.Add(user);
        db.RoleAssignments.Add(new RoleAssignment
        {
            Id = Ids.New(),
            PrincipalType = PrincipalTypes.User,
            PrincipalId = user.Id,
            Role = Roles.PlatformAdmin,
            CreatedAt = TimeProvider.System.UtcNow(),
        });
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Bootstrap: platform-admin user {UserId} created in the platform tenant", user.Id);
    }
}
