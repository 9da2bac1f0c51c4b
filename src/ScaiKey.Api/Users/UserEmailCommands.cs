using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>The user writes that are about the user's mailbox: a new invitation, and what an email change sends.</summary>
internal sealed partial class UserCommands
{
    /// <summary>The problem type of a resend for a user who is past the invitation.</summary>
    public const string InvitationNotPendingType = "invitation-not-pending";

    /// <summary>
    /// A user invited without a password who has not accepted yet (the only state an invitation link can help).
    /// </summary>
    public static bool AwaitsInvitation(User user) => user.PasswordHash is null && user.Status == UserStatus.PendingEmailVerification;

    /// <summary>
    /// Sends a new invitation to a user still waiting for one; earlier invitation links stop working. A user who
    /// has a password or is past PENDING_EMAIL_VERIFICATION is a 409: a reset, not an invitation, is what helps.
    /// </summary>
    public async Task<Result<(T Response, int Version)>> ResendInvitationAsync<T>(RequestInfo request, TenantContext tenant, string userId, CancellationToken ct)
        where T : UserResponse, new()
    {
        var user = await FindAsync(tenant.Id, userId, ct);
        if (user is null)
        {
            return UserNotFound;
        }

        if (!AwaitsInvitation(user))
        {
            return Failure.Conflict("This user has already set a password or is not waiting for an invitation; use a password reset instead.",
                InvitationNotPendingType);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await emails.VoidAsync(tenant.Id, user.Id, [AccountEmails.Invitation], ct);
        emails.Invite(request, tenant, user);
        Touch(user);
        audit.Record("user.invitation_resent", "user", user.Id, tenant.Id, ["invitation_link"]);
        if (await SaveAsync(request, ct) is { } failure)
        {
            return failure;
        }

        await transaction.CommitAsync(ct);
        return await RespondAsync<T>(tenant.Id, user.Id, ct);
    }

    /// <summary>
    /// After the address changed (in the caller's transaction): the new address is unverified until its link is
    /// used, links sent to the old address stop working, the new address gets its link (an invitation for a user
    /// still waiting for one, else a verification link) and the old one a notice. Another spelling of the same
    /// mailbox (its normalized form is unchanged) is not a change of mailbox and sends nothing.
    /// </summary>
    private async Task EmailChangedAsync(RequestInfo request, TenantContext tenant, User user, string previousEmail, List<string> changed, CancellationToken ct)
    {
        if (EmailAddresses.Normalize(previousEmail) == user.EmailNormalized)
        {
            return;
        }

        if (user.EmailVerified)
        {
            user.EmailVerified = false;
            changed.Add("email_verified");
        }

        // A reset or invitation link in the old mailbox must not set a password (or verify) for the new address.
        // Verification links are not voided: each verifies only the address it was sent to.
        var voidedInvitations = await emails.VoidAsync(tenant.Id, user.Id, [AccountEmails.Invitation], ct);
        await emails.VoidAsync(tenant.Id, user.Id, [AccountEmails.PasswordReset], ct);
        if (AwaitsInvitation(user))
        {
            // Accepting an invitation verifies the address, so the invitation moves to the new address (if one was out).
            if (voidedInvitations > 0)
            {
                emails.Invite(request, tenant, user);
            }
        }
        else
        {
            emails.SendEmailVerification(request, tenant, user);
        }

        emails.NotifyEmailChanged(tenant, previousEmail, user.Email);
    }
}
