using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Mfa.Passkeys;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;
using static ScaiKey.Api.SignIn.HostedPages;

namespace ScaiKey.Api.SignIn;

/// <summary>The pages behind the single-use links of a password reset and an invitation: set a password.</summary>
internal static class PasswordLinkPages
{
    private const string ResetPurpose = "PASSWORD_RESET";
    private const string InvitationPurpose = "INVITATION";

    public static void MapPasswordLinkPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/reset-password", (HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] TimeProvider time, CancellationToken ct) =>
            SetPasswordPageAsync(http, db, forms, time, ResetPurpose, ct));
        pages.MapPost("/reset-password", (HttpContext http, [AsParameters] SetPasswordServices services, CancellationToken ct) =>
            SetPasswordAsync(http, services, ResetPurpose, ct));
        pages.MapGet("/accept-invitation", (HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] TimeProvider time, CancellationToken ct) =>
            SetPasswordPageAsync(http, db, forms, time, InvitationPurpose, ct));
        pages.MapPost("/accept-invitation", (HttpContext http, [AsParameters] SetPasswordServices services, CancellationToken ct) =>
            SetPasswordAsync(http, services, InvitationPurpose, ct));
    }

    private sealed record ActionTarget(string TokenId, string UserId, string Email);

    /// <summary>The services a set-password POST needs, bound as one parameter to keep the route lambdas short.</summary>
    internal readonly record struct SetPasswordServices(
        [property: FromServices] ScaiKeyDbContext Db, [property: FromServices] FormProtection Forms, [property: FromServices] Users.PasswordChanges Passwords, [property: FromServices] AuditLog Audit, [property: FromServices] SignInService SignIn, [property: FromServices] RevocationCache Revocations, [property: FromServices] TimeProvider Time);

    private static async Task<IResult> SetPasswordPageAsync(
        HttpContext http, ScaiKeyDbContext db, FormProtection forms, TimeProvider time, string purpose, CancellationToken ct)
    {
        var tenant = Tenant(http);
        var token = http.Request.Query["token"].ToString();
        var target = await FindActionTokenAsync(db, tenant.Id, purpose, token, time.UtcNow(), ct);
        return target is null
            ? InvalidLink(tenant)
            : Page(StatusCodes.Status200OK, SetPasswordForm(http, forms, tenant, purpose, target.Email, token, []));
    }

    /// <summary>
    /// Sets the password through a single-use link. The token is claimed by a conditional update inside the
    /// transaction, so two concurrent submissions cannot both use it.
    /// </summary>
    private static async Task<IResult> SetPasswordAsync(HttpContext http, SetPasswordServices s, string purpose, CancellationToken ct)
    {
        var tenant = Tenant(http);
        if (await ReadFormAsync(http, ct) is not { } form)
        {
            return BadForm(tenant);
        }

        var token = form["token"].ToString();
        var now = s.Time.UtcNow();
        var target = await FindActionTokenAsync(s.Db, tenant.Id, purpose, token, now, ct);
        if (target is null)
        {
            return InvalidLink(tenant);
        }

        if (!s.Forms.IsValid(http, form))
        {
            return Page(StatusCodes.Status400BadRequest,
                SetPasswordForm(http, s.Forms, tenant, purpose, target.Email, token, ["This form has expired. Please try again."]));
        }

        var password = form["new_password"].ToString();
        var errors = NewPasswordErrors(tenant, target.Email, password, form["confirm_password"].ToString());
        if (errors.Count > 0)
        {
            return Page(StatusCodes.Status200OK, SetPasswordForm(http, s.Forms, tenant, purpose, target.Email, token, errors));
        }

        var hash = await s.Passwords.HashAsync(password, ct);
        await using (var transaction = await s.Db.Database.BeginTransactionAsync(ct))
        {
            var claimed = await s.Db.UserActionTokens
                .Where(t => t.Id == target.TokenId && t.UsedAt == null && t.ExpiresAt > now)
                .ExecuteUpdateAsync(x => x.SetProperty(t => t.UsedAt, now), ct);
            if (claimed != 1)
            {
                return InvalidLink(tenant);
            }

            // Any other unused link of the same kind dies with this one: the password it would set is set.
            await s.Db.UserActionTokens
                .Where(t => t.TenantId == tenant.Id && t.UserId == target.UserId && t.Purpose == purpose && t.UsedAt == null)
                .ExecuteUpdateAsync(x => x.SetProperty(t => t.UsedAt, now), ct);

            var user = await s.Db.Users.FirstOrDefaultAsync(u => u.Id == target.UserId && u.TenantId == tenant.Id && u.DeletedAt == null, ct);
            if (user is null)
            {
                return InvalidLink(tenant);
            }

            var changed = new List<string> { "password" };
            await s.Passwords.StoreAsync(user, hash, Users.PasswordRevocation.None, ct);
            user.FailedLoginAttempts = 0;
            if (user.RequirePasswordChange)
            {
                user.RequirePasswordChange = false;
                changed.Add("require_password_change");
            }

            if (purpose == ResetPurpose)
            {
                // Whoever had the old password (or a session made with it) is out.
                user.TokensRevokedAt = now;
                await s.SignIn.RevokeSessionsAsync(tenant.Id, user.Id, now, ct);
                changed.Add("sessions");
            }
            else
            {
                // The link reached the user's mailbox: the address is verified, and a user waiting for exactly that is active.
                if (!user.EmailVerified)
                {
                    user.EmailVerified = true;
                    changed.Add("email_verified");
                }

                if (user.Status == UserStatus.PendingEmailVerification)
                {
                    user.Status = UserStatus.Active;
                    changed.Add("status");
                }
            }

            user.UpdatedAt = now;
            user.Version++;
            s.Audit.RecordAs(PrincipalTypes.User, user.Id, purpose == ResetPurpose ? "user.password_reset_completed" : "user.invitation_accepted",
                "user", user.Id, tenant.Id, changed, purpose == ResetPurpose ? "Password reset link" : "Invitation link");
            try
            {
                await s.Db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                return Page(StatusCodes.Status409Conflict, HostedPageHtml.Message(tenant, "Please try again",
                    "Your account was changed while the password was being set. Open the link again."));
            }

            await transaction.CommitAsync(ct);
        }

        s.Revocations.EvictUser(target.UserId);
        var heading = purpose == ResetPurpose ? "Password changed" : "Account ready";
        return Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant, heading,
            "Your password is set. Return to the application you want to use and sign in with it."));
    }

    private static async Task<ActionTarget?> FindActionTokenAsync(ScaiKeyDbContext db, string tenantId, string purpose, string token, DateTime now, CancellationToken ct)
    {
        // Tokens are 43 base64url characters; anything far longer is not worth hashing.
        if (token.Length is 0 or > 256)
        {
            return null;
        }

        var hash = SecretGenerator.Sha256Hex(token);
        return await db.UserActionTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash && t.Purpose == purpose && t.TenantId == tenantId && t.UsedAt == null && t.ExpiresAt > now)
            .Join(db.Users.Where(u => u.DeletedAt == null), t => t.UserId, u => u.Id, (t, u) => new ActionTarget(t.Id, u.Id, u.Email))
            .FirstOrDefaultAsync(ct);
    }

    private static HostedView SetPasswordForm(
        HttpContext http, FormProtection forms, TenantContext tenant, string purpose, string email, string token, IReadOnlyList<string> errors)
    {
        var (page, heading, button) = purpose == ResetPurpose
            ? ("reset-password", "Reset your password", "Set new password")
            : ("accept-invitation", "Set up your account", "Set password");
        return HostedPageHtml.NewPassword(Form(http, forms, tenant, page, errors), heading, email, button, PasswordHint(tenant),
            new Dictionary<string, string?> { ["token"] = token });
    }
}
