using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Access;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation;

/// <summary>
/// Who an upstream sign-in (OIDC or SAML) is in this tenant, decided and written in one transaction:
/// <list type="number">
/// <item>an account already linked (provider + subject) is its user;</item>
/// <item>else a user of the tenant with the asserted email is linked only when the provider is marked
/// <c>trust_email</c>, the email is verified upstream and the user holds no role (a role holder, like any change to
/// such a user, needs more than the provider's word: their own ScaiKey password); otherwise their password is asked;</item>
/// <item>else the user is provisioned just in time: identity_source the provider's type, no password.</item>
/// </list>
/// Every outcome is audited (federation.signed_in, linked, provisioned, refused with its reason).
/// </summary>
internal sealed class FederatedAccounts(ScaiKeyDbContext db, AuditLog audit, TimeProvider time, Telemetry.ScaiKeyMetrics metrics)
{
    private const string Actor = "federation";
    private const int NameLength = 200;

    public async Task<FederatedAccountResult> ResolveAsync(TenantContext tenant, IdentityProvider provider, UpstreamClaims claims, CancellationToken ct)
    {
        if (provider.TenantId != tenant.Id)
        {
            return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.ProviderNotFound, ct);
        }

        if (!provider.Enabled)
        {
            return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.ProviderDisabled, ct);
        }

        // Two first sign-ins of one account at once meet the unique indexes (provider+subject, tenant+email); the
        // loser's second pass finds what the winner wrote.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await DecideAsync(tenant, provider, claims, ct);
            }
            catch (DbUpdateException ex) when (attempt == 0 && DbErrors.IsUniqueViolation(ex, out _))
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// Writes the link a local user confirmed with their ScaiKey password (the link-confirmation page), and signs
    /// them in. Refused when the account or the user was linked otherwise meanwhile, or the provider was disabled.
    /// </summary>
    public async Task<FederatedAccountResult> LinkConfirmedAsync(
        TenantContext tenant, string providerId, string userId, UpstreamClaims claims, CancellationToken ct)
    {
        var provider = await db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId && p.TenantId == tenant.Id, ct);
        if (provider is null)
        {
            return await RefuseAsync(tenant.Id, providerId, FederationRefusals.ProviderNotFound, ct);
        }

        if (!provider.Enabled)
        {
            return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.ProviderDisabled, ct);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var user = await db.Users.AsNoTracking().Where(u => u.TenantId == tenant.Id && u.Id == userId && u.DeletedAt == null)
            .Select(u => new { u.Id, u.Status, u.EmailVerified }).FirstOrDefaultAsync(ct);
        if (user is null || await db.FederatedIdentities.AnyAsync(f => f.TenantId == tenant.Id && f.IdentityProviderId == provider.Id && f.Subject == claims.Subject, ct))
        {
            await transaction.RollbackAsync(ct);
            return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.UserLinkedElsewhere, ct);
        }

        var result = await LinkAsync(tenant.Id, provider, claims, user.Id, user.Status, ct);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            await transaction.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.UserLinkedElsewhere, ct);
        }

        await transaction.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// Audits a refused federated sign-in in a unit of work of its own (whatever else was attempted was rolled
    /// back) and returns the refusal. The protocols call it for their own refusals too (bad state, invalid token).
    /// </summary>
    public async Task<FederatedAccountResult> RefuseAsync(string tenantId, string providerId, string reason, CancellationToken ct)
    {
        audit.RecordAs(SignInService.SystemActor, Actor, "federation.refused", "identity_provider", providerId, tenantId, reason: reason);
        await db.SaveChangesAsync(ct);
        metrics.SignInFailed(Telemetry.SignInChannels.Federation, reason);
        return FederatedAccountResult.Refuse(reason);
    }

    private async Task<FederatedAccountResult> DecideAsync(TenantContext tenant, IdentityProvider provider, UpstreamClaims claims, CancellationToken ct)
    {
        var now = time.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);

        // 1. An existing link.
        var link = await db.FederatedIdentities.FirstOrDefaultAsync(f => f.TenantId == tenant.Id && f.IdentityProviderId == provider.Id && f.Subject == claims.Subject, ct);
        if (link is not null)
        {
            var linked = await db.Users.AsNoTracking().Where(u => u.Id == link.UserId && u.TenantId == tenant.Id && u.DeletedAt == null)
                .Select(u => new { u.Status }).FirstOrDefaultAsync(ct);
            if (linked is null || linked.Status != UserStatus.Active)
            {
                await transaction.RollbackAsync(ct);
                return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.UserNotActive, ct);
            }

            link.Email = Truncate(claims.Email, 320);
            link.LastSignInAt = now;
            audit.RecordAs(SignInService.SystemActor, Actor, "federation.signed_in", "user", link.UserId, tenant.Id, reason: Reason(provider));
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return await SignInAsync(tenant.Id, link.UserId, "federation.signed_in", active: true, ct);
        }

        if (string.IsNullOrWhiteSpace(claims.Email))
        {
            await transaction.RollbackAsync(ct);
            return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.NoEmail, ct);
        }

        // The same validation and normalisation as an admin's user creation: users.email_normalized stays unique.
        if (FieldRules.EmailError(claims.Email, out var email) is not null)
        {
            await transaction.RollbackAsync(ct);
            return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.InvalidEmail, ct);
        }

        // 2. A user of the tenant with that email.
        var normalized = EmailAddresses.Normalize(email);
        var existing = await db.Users.AsNoTracking()
            .Where(u => u.TenantId == tenant.Id && u.EmailNormalized == normalized && u.DeletedAt == null)
            .Select(u => new { u.Id, u.Status, u.EmailVerified }).FirstOrDefaultAsync(ct);
        if (existing is not null)
        {
            if (await db.FederatedIdentities.AnyAsync(f => f.TenantId == tenant.Id && f.UserId == existing.Id && f.IdentityProviderId == provider.Id, ct))
            {
                await transaction.RollbackAsync(ct);
                return await RefuseAsync(tenant.Id, provider.Id, FederationRefusals.UserLinkedElsewhere, ct);
            }

            var settings = FederationProviderSettings.Read(provider.ConfigJson);
            // Linked at once only when the provider is trusted for the address (trust_email, and its domain among
            // the provider's domains when it lists any), the address is verified at both ends (an admin's typo or an
            // unaccepted invitation must not go to whoever owns the address upstream), and the user holds no role.
            if (!settings.TrustEmail || !claims.EmailVerified || !existing.EmailVerified || !VouchesFor(settings, normalized)
                || await HoldsRolesAsync(existing.Id, ct))
            {
                await transaction.RollbackAsync(ct);
                return new FederatedAccountResult(FederatedAccountOutcome.NeedsPassword, existing.Id);
            }

            var result = await LinkAsync(tenant.Id, provider, claims, existing.Id, existing.Status, ct);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return result;
        }

        // 3. Just-in-time provisioning, through the row builder an admin's creation uses.
        var input = new UserCreate(email, null, Truncate(claims.GivenName, NameLength), Truncate(claims.FamilyName, NameLength),
            Truncate(claims.DisplayName, NameLength), null, "en", "UTC", null, null, [], null, false, false);
        var user = UserInput.NewUser(tenant, input, passwordHash: null, now);
        user.IdentitySource = provider.Type == "SAML" ? IdentitySource.Saml : IdentitySource.Oidc;
        user.EmailVerified = claims.EmailVerified;

        // No email to verify before use: the provider vouches for the person. Approval still applies.
        user.Status = tenant.Settings.RequireApproval ? UserStatus.PendingApproval : UserStatus.Active;
        db.Users.Add(user);
        db.FederatedIdentities.Add(NewLink(tenant.Id, user.Id, provider.Id, claims, now));
        audit.RecordAs(SignInService.SystemActor, Actor, "federation.provisioned", "user", user.Id, tenant.Id,
            ["email", "email_verified", "identity_source", "federated_identities"], Reason(provider));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new FederatedAccountResult(FederatedAccountOutcome.SignIn, user.Id)
        {
            Action = "federation.provisioned",
            Active = user.Status == UserStatus.Active,
        };
    }

    /// <summary>Whether the provider may vouch for an address of this domain: any, unless it lists its domains.</summary>
    private static bool VouchesFor(FederationProviderSettings settings, string normalizedEmail) =>
        settings.Domains.Count == 0 || settings.Domains.Contains(normalizedEmail[(normalizedEmail.LastIndexOf('@') + 1)..], StringComparer.Ordinal);

    /// <summary>Adds the link to the unit of work (with its audit event); the caller saves and commits.</summary>
    private async Task<FederatedAccountResult> LinkAsync(
        string tenantId, IdentityProvider provider, UpstreamClaims claims, string userId, UserStatus status, CancellationToken ct)
    {
        db.FederatedIdentities.Add(NewLink(tenantId, userId, provider.Id, claims, time.UtcNow()));
        audit.RecordAs(SignInService.SystemActor, Actor, "federation.linked", "user", userId, tenantId, ["federated_identities"], Reason(provider));
        return await SignInAsync(tenantId, userId, "federation.linked", status == UserStatus.Active, ct);
    }

    private async Task<FederatedAccountResult> SignInAsync(string tenantId, string userId, string action, bool active, CancellationToken ct) =>
        new(FederatedAccountOutcome.SignIn, userId)
        {
            Action = action,
            Active = active,
            HasSecondFactor = await db.MfaFactors.AnyAsync(f => f.TenantId == tenantId && f.UserId == userId && f.ConfirmedAt != null, ct),
        };

    // The rule of every change to a user who holds roles (RoleCoverage): the actor must hold them too. An upstream
    // provider holds none, so any role assignment means the user's own password must confirm the link.
    private async Task<bool> HoldsRolesAsync(string userId, CancellationToken ct) =>
        (await RoleCoverage.GrantsOfAsync(db, PrincipalTypes.User, userId, ct)).Count > 0;

    private static FederatedIdentity NewLink(string tenantId, string userId, string providerId, UpstreamClaims claims, DateTime now) => new()
    {
        Id = Ids.New(),
        TenantId = tenantId,
        UserId = userId,
        IdentityProviderId = providerId,
        Subject = claims.Subject,
        Email = Truncate(claims.Email, 320),
        CreatedAt = now,
        LastSignInAt = now,
    };

    private static string Reason(IdentityProvider provider) => $"{provider.Type} identity provider {provider.Id}";

    private static string? Truncate(string? value, int length) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Length <= length ? value : value[..length];
}
