using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// /t/{slug}/forgot-password and /t/{slug}/verify-email: the hosted pages a user reaches without signing in to
/// help themselves. Forgot-password answers the same whatever address is typed, so it tells nobody which
/// addresses have accounts; verify-email confirms an address through the link that was mailed to it.
/// </summary>
internal static class SelfServicePages
{
    /// <summary>
    /// At most one reset mail per user in this time from the forgot-password page, however often it is asked for,
    /// so the page cannot be used to flood a mailbox. Counted on the stored links, so it holds across instances.
    /// </summary>
    public static readonly TimeSpan ResetMailInterval = TimeSpan.FromMinutes(5);

    private const int MaxEmailLength = 320;

    /// <summary>Registered in the /t/{slug} group of <see cref="HostedPages"/>, behind its tenant filter and headers.</summary>
    public static void MapSelfServicePages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/forgot-password", ForgotPasswordPageAsync);
        pages.MapPost("/forgot-password", ForgotPasswordAsync);
        pages.MapGet("/verify-email", VerifyEmailPageAsync);
        pages.MapPost("/verify-email", VerifyEmailAsync);
    }

    /// <summary>The services the forgot-password POST needs, bound as one parameter.</summary>
    internal readonly record struct ForgotPasswordServices(
        [property: FromServices] ScaiKeyDbContext Db, [property: FromServices] FormProtection Forms, [property: FromServices] AttemptLimiter Limiter, [property: FromServices] AccountEmails Emails, [property: FromServices] AuditLog Audit, [property: FromServices] TimeProvider Time);

    // ---- forgot password ----

    private static async Task<IResult> ForgotPasswordPageAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var returnUrl = http.Request.Query["return_url"].ToString();
        if (returnUrl.Length > 0 && !await HostedPages.AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return HostedPages.BadReturnUrl(tenant);
        }

        return HostedPages.Page(StatusCodes.Status200OK, HostedPageHtml.ForgotPassword(
            HostedPages.Form(http, forms, tenant, "forgot-password", []), email: null, NullIfEmpty(returnUrl)));
    }

    private static async Task<IResult> ForgotPasswordAsync(HttpContext http, [AsParameters] ForgotPasswordServices s, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        var returnUrl = form["return_url"].ToString();
        if (returnUrl.Length > 0 && !await HostedPages.AcceptReturnUrlAsync(http, s.Db, tenant, returnUrl, ct))
        {
            return HostedPages.BadReturnUrl(tenant);
        }

        var email = form["email"].ToString().Trim();
        IResult Again(int status, string error) => HostedPages.Page(status, HostedPageHtml.ForgotPassword(
            HostedPages.Form(http, s.Forms, tenant, "forgot-password", [error]), email, NullIfEmpty(returnUrl)));

        if (!s.Forms.IsValid(http, form))
        {
            return Again(StatusCodes.Status400BadRequest, "This form has expired. Please try again.");
        }

        if (email.Length == 0)
        {
            return Again(StatusCodes.Status200OK, "Enter your email address.");
        }

        // Each request spends an attempt of the sign-in limits (per client address and per account), whether or not
        // the account exists, so the page cannot be used to probe or mail many addresses faster than sign-in could.
        if (email.Length <= MaxEmailLength)
        {
            var ip = http.Connection.RemoteIpAddress?.ToString();
            if (s.Limiter.IsRefused(ip, tenant.Id, email, out var wait))
            {
                Problems.SetRetryAfter(http.Response, wait);
                return Again(StatusCodes.Status429TooManyRequests,
                    $"Too many requests. Wait {http.Response.Headers.RetryAfter} seconds, then try again.");
            }

            s.Limiter.RecordFailure(ip, tenant.Id, email);
            await SendResetLinkAsync(http, s, tenant, email, ct);
        }

        // The same page whether a mail went out, was held back by the interval, or there is no such account.
        return HostedPages.Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant, "Check your email",
            "If there is an account with a password for this address, we have sent it a link to choose a new password. The link works for one hour.",
            (HostedPages.LoginUrl(http, tenant.Slug, NullIfEmpty(returnUrl)), "Back to sign in")));
    }

    /// <summary>
    /// Mails a reset link to an ACTIVE LOCAL user with a password (the lookup sign-in uses: the normalized address),
    /// unless the user got one in the last <see cref="ResetMailInterval"/>, or no link origin can be trusted
    /// (<see cref="AccountEmails.CanMailLinksForAnonymousRequest"/>). Anyone else gets nothing, silently.
    /// </summary>
    private static async Task SendResetLinkAsync(HttpContext http, ForgotPasswordServices s, TenantContext tenant, string email, CancellationToken ct)
    {
        // A link built from a Host header nobody vouches for could lead the user's token to whoever sent it.
        if (!s.Emails.CanMailLinksForAnonymousRequest())
        {
            return;
        }

        var normalized = EmailAddresses.Normalize(email);
        var user = await s.Db.Users
            .FirstOrDefaultAsync(u => u.TenantId == tenant.Id && u.EmailNormalized == normalized && u.DeletedAt == null, ct);
        if (user is not { Status: UserStatus.Active, IdentitySource: IdentitySource.Local, PasswordHash: not null })
        {
            return;
        }

        await using var transaction = await s.Db.Database.BeginTransactionAsync(ct);

        // The user's row is locked first (a no-op update), so of two requests at once the second waits and then sees
        // the first one's link: the interval holds exactly, also on PostgreSQL.
        var since = s.Time.UtcNow() - ResetMailInterval;
        await s.Db.Users.Where(u => u.Id == user.Id && u.TenantId == tenant.Id)
            .ExecuteUpdateAsync(x => x.SetProperty(u => u.Version, u => u.Version), ct);
        if (await s.Db.UserActionTokens.AnyAsync(
                t => t.TenantId == tenant.Id && t.UserId == user.Id && t.Purpose == AccountEmails.PasswordReset && t.CreatedAt > since, ct))
        {
            return;
        }

        await s.Emails.SendPasswordResetAsync(RequestInfo.From(http), tenant, user, redirectUri: null, AccountEmails.ResetRequester.User, ct);
        s.Audit.RecordAs(SignInService.SystemActor, "forgot_password", "user.password_reset_requested", "user", user.Id, tenant.Id,
            ["password_reset_link"], "Forgot-password page");
        await s.Db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    // ---- email verification ----

    private sealed record VerificationTarget(string TokenId, string UserId, string Email);

    private static async Task<IResult> VerifyEmailPageAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var token = http.Request.Query["token"].ToString();
        var target = await FindVerificationAsync(db, tenant.Id, token, time.UtcNow(), ct);
        return target is null
            ? HostedPages.InvalidLink(tenant)
            : HostedPages.Page(StatusCodes.Status200OK, HostedPageHtml.ConfirmEmail(HostedPages.Form(http, forms, tenant, "verify-email", []), target.Email, token));
    }

    /// <summary>
    /// Marks the address verified. The token is claimed by a conditional update in the transaction (single use
    /// under concurrency), and only verifies while the user's address is still the one it was sent to.
    /// </summary>
    private static async Task<IResult> VerifyEmailAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        var token = form["token"].ToString();
        var now = time.UtcNow();
        var target = await FindVerificationAsync(db, tenant.Id, token, now, ct);
        if (target is null)
        {
            return HostedPages.InvalidLink(tenant);
        }

        if (!forms.IsValid(http, form))
        {
            return HostedPages.Page(StatusCodes.Status400BadRequest, HostedPageHtml.ConfirmEmail(
                HostedPages.Form(http, forms, tenant, "verify-email", ["This form has expired. Please try again."]), target.Email, token));
        }

        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var claimed = await db.UserActionTokens
                .Where(t => t.Id == target.TokenId && t.UsedAt == null && t.ExpiresAt > now)
                .ExecuteUpdateAsync(x => x.SetProperty(t => t.UsedAt, now), ct);
            var user = await db.Users.FirstOrDefaultAsync(u => u.Id == target.UserId && u.TenantId == tenant.Id && u.DeletedAt == null, ct);
            if (claimed != 1 || user is null || user.EmailNormalized != EmailAddresses.Normalize(target.Email))
            {
                return HostedPages.InvalidLink(tenant);
            }

            // The address is proven: other links for it have nothing left to do.
            await db.UserActionTokens
                .Where(t => t.TenantId == tenant.Id && t.UserId == user.Id && t.Purpose == AccountEmails.EmailVerification && t.UsedAt == null)
                .ExecuteUpdateAsync(x => x.SetProperty(t => t.UsedAt, now), ct);
            if (!user.EmailVerified)
            {
                user.EmailVerified = true;
                user.UpdatedAt = now;
                user.Version++;
                audit.RecordAs(PrincipalTypes.User, user.Id, "user.email_verified", "user", user.Id, tenant.Id, ["email_verified"], "Verification link");
            }

            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                return HostedPages.Page(StatusCodes.Status409Conflict, HostedPageHtml.Message(tenant, "Please try again",
                    "Your account was changed while the address was being confirmed. Open the link again."));
            }

            await transaction.CommitAsync(ct);
        }

        return HostedPages.Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant, "Email address confirmed",
            $"Thank you: {target.Email} is confirmed as the email address of your account."));
    }

    /// <summary>A live verification link of this tenant whose address is still the user's; null for anything else.</summary>
    private static async Task<VerificationTarget?> FindVerificationAsync(ScaiKeyDbContext db, string tenantId, string token, DateTime now, CancellationToken ct)
    {
        // Tokens are 43 base64url characters; anything far longer is not worth hashing.
        if (token.Length is 0 or > 256)
        {
            return null;
        }

        var hash = SecretGenerator.Sha256Hex(token);
        var found = await db.UserActionTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash && t.Purpose == AccountEmails.EmailVerification && t.TenantId == tenantId
                && t.UsedAt == null && t.ExpiresAt > now && t.Email != null)
            .Join(db.Users.Where(u => u.DeletedAt == null), t => t.UserId, u => u.Id, (t, u) => new { t.Id, UserId = u.Id, Sent = t.Email!, u.EmailNormalized })
            .FirstOrDefaultAsync(ct);
        return found is not null && found.EmailNormalized == EmailAddresses.Normalize(found.Sent)
            ? new VerificationTarget(found.Id, found.UserId, found.Sent)
            : null;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
