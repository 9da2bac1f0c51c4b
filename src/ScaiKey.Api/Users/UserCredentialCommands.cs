using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>The user's credentials, changed by an administrator: unlock, turn second factors off, reset the password.</summary>
internal sealed partial class UserCommands
{
    public async Task<Result<(T Response, int Version)>> UnlockAsync<T>(RequestInfo request, string tenantId, string userId, CancellationToken ct)
        where T : UserResponse, new()
    {
        var user = await FindAsync(tenantId, userId, ct);
        if (user is null)
        {
            return UserNotFound;
        }

        var changed = new List<string> { "failed_login_attempts" };
        if (user.Status == UserStatus.Locked)
        {
            user.Status = UserStatus.Active;
            changed.Add("status");
        }

        user.FailedLoginAttempts = 0;
        user.LockedAt = null;
        Touch(user);
        audit.Record("user.unlocked", "user", user.Id, tenantId, changed);
        if (await SaveAsync(request, ct) is { } failure)
        {
            return failure;
        }

        return await RespondAsync<T>(tenantId, userId, ct);
    }

    public async Task<Result<(T Response, int Version)>> DisableMfaAsync<T>(RequestInfo request, string tenantId, string userId, CancellationToken ct)
        where T : UserResponse, new()
    {
        var user = await FindAsync(tenantId, userId, ct);
        if (user is null)
        {
            return UserNotFound;
        }

        var tenantName = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => t.Name).FirstOrDefaultAsync(ct) ?? "ScaiKey";
        await using var transaction = await db.Database.BeginTransactionAsync(ct);

        // Every factor (unfinished enrolments too), the recovery codes that would stand in for them, and any MFA
        // step in flight (a half-finished sign-in or enrolment must not complete against the factors just removed).
        var removed = await db.MfaFactors.Where(f => f.TenantId == tenantId && f.UserId == user.Id).ExecuteDeleteAsync(ct);
        var codes = await db.MfaRecoveryCodes.Where(r => r.TenantId == tenantId && r.UserId == user.Id).ExecuteDeleteAsync(ct);
        await db.MfaChallenges.Where(c => c.TenantId == tenantId && c.UserId == user.Id).ExecuteDeleteAsync(ct);
        var changed = new List<string> { "mfa_enabled", "sessions" };
        if (removed > 0)
        {
            changed.Add("mfa_factors");
        }

        if (codes > 0)
        {
            changed.Add("mfa_recovery_codes");
        }

        user.MfaEnabled = false;
        Touch(user);
        await RevokeAsync(user, ct);
        audit.Record("user.mfa_disabled", "user", user.Id, tenantId, changed);
        outbox.Enqueue(tenantId, user.Email, "mfa_disabled", $"Two-step verification was turned off for your {tenantName} account",
            $"Hello,\n\nAn administrator removed the second factors (authenticator apps, passkeys and recovery codes) of your {tenantName} account and signed you out everywhere.\nYou can set up two-step verification again from your account page.\nIf you did not ask for this, contact your administrator.\n");
        if (await SaveAsync(request, ct) is { } failure)
        {
            return failure;
        }

        await transaction.CommitAsync(ct);
        revocations.EvictUser(user.Id);
        return await RespondAsync<T>(tenantId, userId, ct);
    }

    public async Task<Result<PasswordResetResponse>> ResetPasswordAsync(RequestInfo request, TenantContext tenant, string userId, UserPasswordReset input, CancellationToken ct)
    {
        var user = await FindAsync(tenant.Id, userId, ct);
        if (user is null)
        {
            return UserNotFound;
        }

        if (!tenant.Settings.AllowsLocalPassword(user.IdentitySource))
        {
            return Failure.Invalid(["body", "method"], FederatedPasswordRefusal(user.IdentitySource));
        }

        if (input.Method == "EMAIL")
        {
            if (input.RedirectUri is not null && !tenant.Settings.AllowedRedirectUris.Contains(input.RedirectUri, StringComparer.Ordinal))
            {
                return Failure.Invalid(["body", "redirect_uri"], "redirect_uri is not registered for this tenant (settings.allowed_redirect_uris)");
            }

            await using var emailTransaction = await db.Database.BeginTransactionAsync(ct);
            var expires = await emails.SendPasswordResetAsync(request, tenant, user, input.RedirectUri, AccountEmails.ResetRequester.Administrator, ct);
            audit.Record("user.password_reset_requested", "user", user.Id, tenant.Id, ["password_reset_link"]);
            await db.SaveChangesAsync(ct);
            await emailTransaction.CommitAsync(ct);
            return new PasswordResetResponse(user.Id, "EMAIL", null, expires, user.RequirePasswordChange);
        }

        var password = input.Method == "TEMPORARY" ? PasswordChanges.Temporary(user.Email, tenant.Settings.PasswordPolicy) : input.NewPassword!;
        var errors = new ValidationErrors();
        foreach (var violation in PasswordChanges.Violations(tenant, user.Email, password))
        {
            errors.ValueError(["body", "new_password"], violation);
        }

        if (errors.Any)
        {
            return Failure.Invalid(errors);
        }

        if (await SetPasswordAsync(request, tenant, user, password, requireChange: true, input.Method, ct) is { } failure)
        {
            return failure;
        }

        return new PasswordResetResponse(user.Id, input.Method, input.Method == "TEMPORARY" ? password : null, null, true);
    }

    public async Task<Result<PasswordResetResponse>> AdminResetPasswordAsync(RequestInfo request, TenantContext tenant, string userId, AdminPasswordReset input, CancellationToken ct)
    {
        var user = await FindAsync(tenant.Id, userId, ct);
        if (user is null)
        {
            return UserNotFound;
        }

        if (!tenant.Settings.AllowsLocalPassword(user.IdentitySource))
        {
            return Failure.Invalid(["body", "new_password"], FederatedPasswordRefusal(user.IdentitySource));
        }

        var errors = new ValidationErrors();
        foreach (var violation in PasswordChanges.Violations(tenant, user.Email, input.NewPassword))
        {
            errors.ValueError(["body", "new_password"], violation);
        }

        if (errors.Any)
        {
            return Failure.Invalid(errors);
        }

        if (await SetPasswordAsync(request, tenant, user, input.NewPassword, input.RequirePasswordChange, "MANUAL", ct) is { } failure)
        {
            return failure;
        }

        return new PasswordResetResponse(user.Id, "MANUAL", null, null, input.RequirePasswordChange);
    }

    private static string FederatedPasswordRefusal(IdentitySource source) => source == IdentitySource.Ldap
        ? "this user signs in with the directory's password (identity_source LDAP); a local password cannot be set"
        : $"this user signs in through an identity provider (identity_source {source.ToString().ToUpperInvariant()}); "
          + "the tenant's settings.federation_policy.allow_local_passwords is false";

    private async Task<Failure?> SetPasswordAsync(RequestInfo request, TenantContext tenant, User user, string password, bool requireChange, string method, CancellationToken ct)
    {
        var hash = await passwords.HashAsync(password, ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await passwords.StoreAsync(user, hash, PasswordRevocation.Everywhere, ct);
        user.RequirePasswordChange = requireChange;
        Touch(user);
        outbox.Enqueue(tenant.Id, user.Email, "password_changed", $"Your {tenant.Name} password was reset",
            $"Hello,\n\nAn administrator reset the password of your {tenant.Name} account and signed you out everywhere.\nIf you did not ask for this, contact your administrator.\n");
        audit.Record("user.password_reset", "user", user.Id, tenant.Id,
            requireChange ? ["password", "require_password_change", "sessions"] : ["password", "sessions"], reason: "method " + method);
        if (await SaveAsync(request, ct) is { } failure)
        {
            return failure;
        }

        await transaction.CommitAsync(ct);
        revocations.EvictUser(user.Id);
        return null;
    }
}
