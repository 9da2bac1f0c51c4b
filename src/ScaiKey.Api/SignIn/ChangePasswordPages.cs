using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The forced password change after sign-in (/t/{slug}/change-password): a user whose password an administrator
/// chose or generated replaces it before any application gets a code.
/// </summary>
internal static class ChangePasswordPages
{
    public static void MapChangePasswordPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/change-password", ChangePasswordPageAsync);
        pages.MapPost("/change-password", ChangePasswordAsync);
    }

    private static async Task<IResult> ChangePasswordPageAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var returnUrl = http.Request.Query["return_url"].ToString();
        if (returnUrl.Length > 0 && !await HostedPages.AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return HostedPages.BadReturnUrl(tenant);
        }

        var user = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        if (user is null)
        {
            return HostedPages.SeeOther(HostedPages.LoginUrl(http, tenant.Slug, HostedPages.NullIfEmpty(returnUrl)));
        }

        if (!user.RequirePasswordChange)
        {
            return HostedPages.Continue(tenant, returnUrl, "Your password does not need to be changed.");
        }

        return HostedPages.Page(StatusCodes.Status200OK, ChangePasswordForm(http, forms, tenant, user.Email, returnUrl, []));
    }

    /// <summary>
    /// Replaces a password that an administrator chose or generated, for a user who has just signed in with it.
    /// The user's other sessions end: whoever else knew the old password is signed out.
    /// </summary>
    private static async Task<IResult> ChangePasswordAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] PasswordHasher hasher, [FromServices] AuditLog audit, [FromServices] EmailOutbox outbox,
        [FromServices] RevocationCache revocations, [FromServices] TimeProvider time, [FromServices] Users.PasswordChanges passwords, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        var returnUrl = form["return_url"].ToString();
        if (returnUrl.Length > 0 && !await HostedPages.AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return HostedPages.BadReturnUrl(tenant);
        }

        var signedIn = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        if (signedIn is null)
        {
            return HostedPages.SeeOther(HostedPages.LoginUrl(http, tenant.Slug, HostedPages.NullIfEmpty(returnUrl)));
        }

        if (!signedIn.RequirePasswordChange)
        {
            return HostedPages.Continue(tenant, returnUrl, "Your password does not need to be changed.");
        }

        if (!forms.IsValid(http, form))
        {
            return HostedPages.Page(StatusCodes.Status400BadRequest,
                ChangePasswordForm(http, forms, tenant, signedIn.Email, returnUrl, ["This form has expired. Please try again."]));
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == signedIn.UserId && u.TenantId == tenant.Id && u.DeletedAt == null, ct);
        if (user is null)
        {
            return HostedPages.SeeOther(HostedPages.LoginUrl(http, tenant.Slug, HostedPages.NullIfEmpty(returnUrl)));
        }

        var password = form["new_password"].ToString();
        var errors = HostedPages.NewPasswordErrors(tenant, user.Email, password, form["confirm_password"].ToString());
        if (errors.Count == 0 && user.PasswordHash is not null && hasher.Verify(user.PasswordHash, password))
        {
            errors.Add("Choose a password different from the current one.");
        }

        if (errors.Count > 0)
        {
            return HostedPages.Page(StatusCodes.Status200OK, ChangePasswordForm(http, forms, tenant, user.Email, returnUrl, errors));
        }

        // Through the hashing gate like every other password change, so a burst of changes cannot starve sign-ins.
        var hash = await passwords.HashAsync(password, ct);
        var now = time.UtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            await passwords.StoreAsync(user, hash, Users.PasswordRevocation.None, ct);
            user.RequirePasswordChange = false;
            user.UpdatedAt = now;
            user.Version++;
            await SignInService.RevokeSessionsAsync(db, tenant.Id, user.Id, now, "password_changed", exceptSessionId: signedIn.SessionId, ct);
            audit.RecordAs(PrincipalTypes.User, user.Id, "user.password_changed", "user", user.Id, tenant.Id,
                ["password", "require_password_change", "sessions"], "Required change at sign-in");
            HostedPages.PasswordChangedNotice(outbox, tenant, user.Email);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                // An administrator changed the user meanwhile (status, another reset): start over from the login page.
                return HostedPages.SeeOther(HostedPages.LoginUrl(http, tenant.Slug, HostedPages.NullIfEmpty(returnUrl)));
            }

            await transaction.CommitAsync(ct);
        }

        revocations.EvictUser(user.Id);
        return HostedPages.Continue(tenant, returnUrl, "Your password was changed.");
    }

    private static HostedView ChangePasswordForm(HttpContext http, FormProtection forms, TenantContext tenant, string email, string returnUrl, IReadOnlyList<string> errors) =>
        HostedPageHtml.NewPassword(HostedPages.Form(http, forms, tenant, "change-password", errors), "Choose a new password", email, "Change password",
            HostedPages.PasswordHint(tenant), new Dictionary<string, string?> { ["return_url"] = HostedPages.NullIfEmpty(returnUrl) });
}
