using Microsoft.AspNetCore.HostFiltering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Email;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>
/// The emails that carry a single-use link (invitation, password reset, email verification) and the notice of an
/// email change, shared by the admin API and the hosted pages so every link is issued, voided and worded in one
/// place. Everything is added to the caller's unit of work: the token, the queued mail and the caller's change
/// commit together or not at all. Only the SHA-256 of a token is stored; the token itself leaves only in the mail.
/// </summary>
internal sealed class AccountEmails(
    ScaiKeyDbContext db, EmailOutbox outbox, TimeProvider time, PublicOrigin origin,
    IHostEnvironment environment, IOptions<HostFilteringOptions> hostFiltering, ILogger<AccountEmails> logger)
{
    private static int _untrustedOriginLogged;

    public const string Invitation = "INVITATION";
    public const string PasswordReset = "PASSWORD_RESET";
    public const string EmailVerification = "EMAIL_VERIFICATION";

    public static readonly TimeSpan InvitationLifetime = TimeSpan.FromDays(7);
    public static readonly TimeSpan ResetLinkLifetime = TimeSpan.FromHours(1);

    // As long as an invitation: the address is checked again when the link is used, so a long life costs nothing.
    public static readonly TimeSpan VerificationLifetime = TimeSpan.FromDays(7);

    /// <summary>Who asked for a reset link; the mail says so, so a user who did not ask knows to ignore it.</summary>
    public enum ResetRequester
    {
        Administrator,
        User,
    }

    /// <summary>Marks the user's unused links of these purposes used. Inside the caller's transaction.</summary>
    public Task<int> VoidAsync(string tenantId, string userId, string[] purposes, CancellationToken ct)
    {
        var now = time.UtcNow();
        return db.UserActionTokens
            .Where(t => t.TenantId == tenantId && t.UserId == userId && purposes.Contains(t.Purpose) && t.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct);
    }

    /// <summary>A new invitation link to the user's address.</summary>
    public void Invite(RequestInfo request, TenantContext tenant, User user)
    {
        var link = AppendToken(HostedUrl(request, tenant, "accept-invitation"), Issue(user, Invitation, InvitationLifetime, email: null));
        outbox.Enqueue(tenant.Id, user.Email, "invitation", $"You are invited to {tenant.Name}",
            $"Hello,\n\nAn account was created for you at {tenant.Name}. Set your password within {InvitationLifetime.TotalDays:0} days:\n\n{link}\n\nIf you did not expect this, ignore this message.\n");
    }

    /// <summary>
    /// A new reset link to the user's address, after voiding the earlier ones (only the newest link works). Runs
    /// statements: call it inside a transaction. Returns when the link expires.
    /// </summary>
    public async Task<DateTime> SendPasswordResetAsync(
        RequestInfo request, TenantContext tenant, User user, string? redirectUri, ResetRequester requester, CancellationToken ct)
    {
        await VoidAsync(tenant.Id, user.Id, [PasswordReset], ct);
        var link = AppendToken(redirectUri ?? HostedUrl(request, tenant, "reset-password"), Issue(user, PasswordReset, ResetLinkLifetime, email: null));
        var who = requester == ResetRequester.Administrator
            ? $"An administrator started a password reset for your {tenant.Name} account."
            : $"Someone (hopefully you) asked to reset the password of your {tenant.Name} account.";
        var ignore = requester == ResetRequester.Administrator
            ? string.Empty
            : "If you did not ask for this, ignore this message: your password stays as it is.\n";
        outbox.Enqueue(tenant.Id, user.Email, "password_reset", $"Reset your {tenant.Name} password",
            $"Hello,\n\n{who} Choose a new password within one hour:\n\n{link}\n\nThe link works once.\n{ignore}");
        return time.UtcNow() + ResetLinkLifetime;
    }

    /// <summary>
    /// A link that verifies the user's current address. The token remembers the address it went to, so it can
    /// verify that address and no later one (<see cref="UserActionToken.Email"/>).
    /// </summary>
    public void SendEmailVerification(RequestInfo request, TenantContext tenant, User user)
    {
        var link = AppendToken(HostedUrl(request, tenant, "verify-email"), Issue(user, EmailVerification, VerificationLifetime, user.Email));
        outbox.Enqueue(tenant.Id, user.Email, "email_verification", $"Confirm your email address for {tenant.Name}",
            $"Hello,\n\nPlease confirm that this is the email address of your {tenant.Name} account. The link works once, within {VerificationLifetime.TotalDays:0} days:\n\n{link}\n\nIf you do not have an account there, ignore this message.\n");
    }

    /// <summary>Tells the previous address that the account moved; the new address is masked (see docs/decisions.md).</summary>
    public void NotifyEmailChanged(TenantContext tenant, string previousEmail, string newEmail) =>
        outbox.Enqueue(tenant.Id, previousEmail, "email_changed", $"The email address of your {tenant.Name} account was changed",
            $"Hello,\n\nThe email address of your {tenant.Name} account was changed from this address to {Mask(newEmail)}. Messages about the account now go there.\nIf you did not expect this, contact your administrator.\n");

    /// <summary>
    /// An address with most of its local part hidden ("j***@example.com"): enough for the owner to recognise it,
    /// too little for whoever reads the old mailbox later to learn the new one.
    /// </summary>
    public static string Mask(string email)
    {
        var at = email.LastIndexOf('@');
        return at <= 0 ? "***" : email[..1] + "***" + email[at..];
    }

    /// <summary>
    /// Whether a link mailed for an ANONYMOUS request (the forgot-password page) may be built now. Anyone can send
    /// any Host header, so the request's origin is used only where something vouches for it: ScaiKey:Issuer (then
    /// the links use it, whatever the request says), AllowedHosts naming the operator's hosts (then the host
    /// filter has refused every other Host before this runs), or the Development environment (the README's local
    /// run). Otherwise nothing may be mailed, and a warning says once what to set. See docs/decisions.md.
    /// </summary>
    public bool CanMailLinksForAnonymousRequest()
    {
        if (origin.Issuer is not null || environment.IsDevelopment()
            || hostFiltering.Value.AllowedHosts is { Count: > 0 } hosts && !hosts.Contains("*"))
        {
            return true;
        }

        if (Interlocked.Exchange(ref _untrustedOriginLogged, 1) == 0)
        {
            logger.LogWarning(
                "The forgot-password page sends no mail: set {Issuer} (or AllowedHosts to this server's host names) so the forgot-password page can mail links that cannot be pointed elsewhere by a forged Host header.",
                PublicOrigin.IssuerKey);
        }

        return false;
    }

    /// <summary>The public URL of a hosted page of the tenant: under ScaiKey:Issuer when set, else this request's origin.</summary>
    public string HostedUrl(RequestInfo request, TenantContext tenant, string page)
    {
        var baseUrl = origin.Issuer is { } issuer
            ? issuer.AbsoluteUri.TrimEnd('/')
            : request.Origin;
        return $"{baseUrl}/t/{tenant.Slug}/{page}";
    }

    private string Issue(User user, string purpose, TimeSpan lifetime, string? email)
    {
        var token = SecretGenerator.Token();
        var now = time.UtcNow();
        db.UserActionTokens.Add(new UserActionToken
        {
            Id = Ids.New(),
            TenantId = user.TenantId,
            UserId = user.Id,
            Purpose = purpose,
            TokenHash = SecretGenerator.Sha256Hex(token),
            Email = email,
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        });
        return token;
    }

    private static string AppendToken(string url, string token) =>
        url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "token=" + Uri.EscapeDataString(token);
}
