using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Federation.Ldap;

internal enum LdapPasswordCheck
{
    Correct,
    WrongPassword,

    // The entry the user was synced from is gone (or no longer matches user_filter).
    NotInDirectory,

    // The user's LDAP provider is disabled, or the user has no link to one.
    ProviderDisabled,

    // The directory did not answer or refused the service account: nothing is known about the password.
    Unavailable,
}

/// <summary>
/// The password check of an LDAP-sourced user (SignInService calls it for users whose identity_source is LDAP):
/// the service account finds the user's entry by its stable id (the federated identity's subject), then the
/// directory is asked to bind as that entry's DN with the password given. Nothing of the password is kept.
/// </summary>
internal sealed class LdapSignIn(ScaiKeyDbContext db, KeyRing keyRing, IOptions<FederationOptions> options, ILogger<LdapSignIn> logger)
{
    public async Task<LdapPasswordCheck> CheckAsync(string tenantId, string userId, string password, CancellationToken ct)
    {
        var link = await db.FederatedIdentities.AsNoTracking()
            .Where(f => f.TenantId == tenantId && f.UserId == userId)
            .Join(db.IdentityProviders.AsNoTracking().Where(p => p.TenantId == tenantId && p.Type == LdapSync.ProviderType),
                f => f.IdentityProviderId, p => p.Id, (f, p) => new { f.Subject, Provider = p })
            .FirstOrDefaultAsync(ct);
        if (link is null || !link.Provider.Enabled)
        {
            return LdapPasswordCheck.ProviderDisabled;
        }

        // Refused before any bind: a DN with an empty password is an unauthenticated bind that "succeeds". libldap
        // takes the password up to its first NUL, so "\0..." would be one too (found in the attacker's review):
        // no password with a NUL reaches the directory.
        if (string.IsNullOrEmpty(password) || password.Contains('\0', StringComparison.Ordinal))
        {
            return LdapPasswordCheck.WrongPassword;
        }

        var settings = LdapSettings.From(keyRing, link.Provider);
        var timeout = TimeSpan.FromSeconds(options.Value.ProviderTimeoutSeconds);
        try
        {
            // libldap's calls block; they run off the request's thread, bounded by the provider timeout.
            return await Task.Run(() =>
            {
                using var directory = LdapDirectory.Connect(settings, timeout);
                var dn = directory.FindUserDn(link.Subject);
                return dn is null ? LdapPasswordCheck.NotInDirectory
                    : directory.TryBind(dn, password) ? LdapPasswordCheck.Correct
                    : LdapPasswordCheck.WrongPassword;
            }, ct);
        }
        catch (LdapUnavailableException e)
        {
            logger.LogWarning("LDAP sign-in through identity provider {ProviderId} could not reach the directory: {Error}", link.Provider.Id, e.Message);
            return LdapPasswordCheck.Unavailable;
        }
    }
}
