using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Mfa;
using ScaiKey.Api.Mfa.Passkeys;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The hosted pages after a right password when a second factor stands between it and the session
/// (<see cref="HostedSecondFactor"/>): /mfa asks for a TOTP or recovery code; /mfa/enroll sets up TOTP for a user
/// whose tenant requires MFA, shows the recovery codes once, and then signs the user in.
/// </summary>
internal static class SecondFactorPages
{
    public const string Page = "mfa";
    public const string EnrolPage = "mfa/enroll";
    private const string EnrolDonePage = "mfa/enroll/done";
    private const string WrongCode = "That code is not right. Check your authenticator app and try again.";
    private const string WrongRecoveryCode = "That recovery code is not right, or it was used already.";

    public static void MapSecondFactorPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/" + Page, ChallengePageAsync);
        pages.MapPost("/" + Page, VerifyAsync);
        pages.MapGet("/" + EnrolPage, EnrolPageAsync);
        pages.MapPost("/" + EnrolPage, ConfirmAsync);
        pages.MapPost("/" + EnrolDonePage, EnrolDoneAsync);
        pages.MapPasskeySecondFactor();
    }

    // ---- the second factor of a user who has one ----

    private static async Task<IResult> ChallengePageAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedSecondFactor.FindPendingAsync(http, tenant, MfaChallengePurposes.HostedSignIn, ct) is not { } pending)
        {
            return HostedSecondFactor.StartOver(http, tenant, returnUrl: null);
        }

        await AllowReturnAsync(http, db, tenant, pending, ct);
        return await ChallengeFormAsync(http, db, forms, tenant, pending, http.Request.Query["method"] == "recovery", [], StatusCodes.Status200OK, ct);
    }

    private static async Task<IResult> VerifyAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] SecondFactorSignIn secondFactor, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        if (await HostedSecondFactor.FindPendingAsync(http, tenant, MfaChallengePurposes.HostedSignIn, ct) is not { } pending)
        {
            return HostedSecondFactor.StartOver(http, tenant, returnUrl: null);
        }

        var data = PendingSignInData.Read(pending);
        await AllowReturnAsync(http, db, tenant, pending, ct);
        var recovery = !form.ContainsKey("code") && form.ContainsKey("recovery_code");
        if (!forms.IsValid(http, form))
        {
            return await ChallengeFormAsync(http, db, forms, tenant, pending, recovery, ["This form has expired. Please try again."], StatusCodes.Status400BadRequest, ct);
        }

        var code = form["code"].ToString();
        var recoveryCode = form["recovery_code"].ToString();
        if ((recovery ? recoveryCode : code).Trim().Length == 0)
        {
            return await ChallengeFormAsync(http, db, forms, tenant, pending, recovery,
                [recovery ? "Enter a recovery code." : "Enter the code from your authenticator app."], StatusCodes.Status200OK, ct);
        }

        var check = await secondFactor.CheckAsync(tenant, pending, recovery ? null : code, recovery ? recoveryCode : null, ct);
        switch (check.Outcome)
        {
            case SecondFactorStep.Accepted:
                return await HostedSecondFactor.CompleteAsync(http, pending, check.Amr!, ct);
            case SecondFactorStep.Limited:
                Problems.SetRetryAfter(http.Response, check.RetryAfter);
                return await ChallengeFormAsync(http, db, forms, tenant, pending, recovery,
                    [$"Too many attempts. Wait {http.Response.Headers.RetryAfter} seconds, then try again."], StatusCodes.Status429TooManyRequests, ct);
            case SecondFactorStep.Ended:
                // Too many wrong codes on this step, or the account was locked or disabled: the password again.
                return HostedSecondFactor.StartOver(http, tenant, data.ReturnUrl);
            default:
                return await ChallengeFormAsync(http, db, forms, tenant, pending, recovery, [recovery ? WrongRecoveryCode : WrongCode], StatusCodes.Status200OK, ct);
        }
    }

    /// <summary>
    /// The step's page: a TOTP code field when the user has an authenticator app, a passkey button when they have a
    /// passkey (and passkeys are on), and the way to a recovery code.
    /// </summary>
    internal static async Task<IResult> ChallengeFormAsync(
        HttpContext http, ScaiKeyDbContext db, FormProtection forms, TenantContext tenant, MfaChallenge pending, bool recovery,
        IReadOnlyList<string> errors, int status, CancellationToken ct)
    {
        var types = await db.MfaFactors.AsNoTracking()
            .Where(f => f.TenantId == tenant.Id && f.UserId == pending.UserId && f.ConfirmedAt != null)
            .Select(f => f.Type).Distinct().ToListAsync(ct);
        var passkey = recovery || !types.Contains(MfaFactorTypes.WebAuthn) ? null : PasskeySecondFactor.Offer(http, tenant);
        var hasTotp = passkey is null || types.Contains(MfaFactorTypes.Totp);
        return HostedPages.Page(status, SecondFactorHtml.Challenge(
            HostedPages.Form(http, forms, tenant, Page, errors),
            HostedPages.PageUrl(http, tenant.Slug, Page, returnUrl: null) + "?method=recovery",
            HostedPages.PageUrl(http, tenant.Slug, Page, returnUrl: null),
            recovery, hasTotp, passkey));
    }

    // ---- enrolment required by the tenant's policy ----

    private static async Task<IResult> EnrolPageAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] SecondFactors factors, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedSecondFactor.FindPendingAsync(http, tenant, MfaChallengePurposes.Enrollment, ct) is not { } pending
            || await EmailOfAsync(db, tenant, pending.UserId!, ct) is not { } email
            || await EnrolledElsewhereAsync(factors, tenant, pending, ct))
        {
            return HostedSecondFactor.StartOver(http, tenant, returnUrl: null);
        }

        await AllowReturnAsync(http, db, tenant, pending, ct);

        // A new secret each time the page is opened (an earlier unconfirmed one is dropped): it is shown only here.
        var enrolment = await factors.BeginTotpAsync(tenant.Id, pending.UserId!, "Authenticator app", tenant.Name, email, ct);
        return HostedPages.Page(StatusCodes.Status200OK, SecondFactorHtml.Enrol(
            HostedPages.Form(http, forms, tenant, EnrolPage, []), email, QrCodes.Svg(enrolment.OtpAuthUri), enrolment.Secret, enrolment.FactorId));
    }

    private static async Task<IResult> ConfirmAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] SecondFactors factors, [FromServices] MfaChallenges challenges, [FromServices] KeyRing keyRing, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        if (await HostedSecondFactor.FindPendingAsync(http, tenant, MfaChallengePurposes.Enrollment, ct) is not { } pending
            || await EmailOfAsync(db, tenant, pending.UserId!, ct) is not { } email
            || await EnrolledElsewhereAsync(factors, tenant, pending, ct))
        {
            return HostedSecondFactor.StartOver(http, tenant, returnUrl: null);
        }

        await AllowReturnAsync(http, db, tenant, pending, ct);
        var factorId = form["factor_id"].ToString();
        var valid = forms.IsValid(http, form);
        var codes = valid ? await factors.ConfirmTotpAsync(tenant.Id, pending.UserId!, factorId, form["code"].ToString(), ct) : [];
        if (codes is null)
        {
            // Not this user's enrolment in progress (another tab started a new one): show a fresh QR code.
            return HostedPages.SeeOther(HostedPages.PageUrl(http, tenant.Slug, EnrolPage, returnUrl: null));
        }

        if (codes.Count == 0)
        {
            // A wrong first code guesses at nothing (the user has just proved the password), but the step still
            // ends after a few, like the second-factor step.
            if (valid && !await challenges.CountFailureAsync(pending, ct))
            {
                return HostedSecondFactor.StartOver(http, tenant, PendingSignInData.Read(pending).ReturnUrl);
            }

            var secret = await db.MfaFactors.AsNoTracking()
                .Where(f => f.Id == factorId && f.TenantId == tenant.Id && f.UserId == pending.UserId && f.ConfirmedAt == null)
                .Select(f => f.SecretEncrypted)
                .FirstOrDefaultAsync(ct);
            if (secret is null)
            {
                return HostedPages.SeeOther(HostedPages.PageUrl(http, tenant.Slug, EnrolPage, returnUrl: null));
            }

            var bytes = keyRing.Open(secret, SecondFactors.SealContext(factorId));
            var error = valid ? "That code is not right. Check the time on your device and enter the code the app shows now." : "This form has expired. Please try again.";
            return HostedPages.Page(valid ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest, SecondFactorHtml.Enrol(
                HostedPages.Form(http, forms, tenant, EnrolPage, [error]), email, QrCodes.Svg(TotpCodes.OtpAuthUri(tenant.Name, email, bytes)),
                TotpCodes.Base32(bytes), factorId));
        }

        await challenges.RecordEnrolledFactorAsync(pending, factorId, ct);
        return HostedPages.Page(StatusCodes.Status200OK, SecondFactorHtml.RecoveryCodes(HostedPages.Form(http, forms, tenant, EnrolDonePage, []), codes));
    }

    private static async Task<IResult> EnrolDoneAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        if (await HostedSecondFactor.FindPendingAsync(http, tenant, MfaChallengePurposes.Enrollment, ct) is not { } pending)
        {
            return HostedSecondFactor.StartOver(http, tenant, returnUrl: null);
        }

        // The factor confirmed on this step, and only that one, makes this a two-factor sign-in; without it, enrol first.
        var enrolled = PendingSignInData.Read(pending).EnrolledFactorId;
        if (!forms.IsValid(http, form) || enrolled is null || !await db.MfaFactors.AsNoTracking().AnyAsync(
                f => f.Id == enrolled && f.TenantId == tenant.Id && f.UserId == pending.UserId && f.ConfirmedAt != null, ct))
        {
            return HostedPages.SeeOther(HostedPages.PageUrl(http, tenant.Slug, EnrolPage, returnUrl: null));
        }

        return await HostedSecondFactor.CompleteAsync(http, pending, SecondFactorSignIn.TotpAmr, ct);
    }

    // ---- shared ----

    /// <summary>Lets this page's form end up at the application, as the login page does (HostedPages.AcceptReturnUrlAsync).</summary>
    private static async Task AllowReturnAsync(HttpContext http, ScaiKeyDbContext db, TenantContext tenant, MfaChallenge pending, CancellationToken ct)
    {
        if (PendingSignInData.Read(pending).ReturnUrl is { Length: > 0 } returnUrl)
        {
            await HostedPages.AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct);
        }
    }

    /// <summary>
    /// The user has a confirmed factor this enrolment step did not make (enrolled in another browser meanwhile): the
    /// step, which only the password opened, must not go on to replace their recovery codes or sign in on it.
    /// </summary>
    private static async Task<bool> EnrolledElsewhereAsync(SecondFactors factors, TenantContext tenant, MfaChallenge pending, CancellationToken ct) =>
        PendingSignInData.Read(pending).EnrolledFactorId is null && await factors.HasConfirmedFactorAsync(tenant.Id, pending.UserId!, ct);

    private static Task<string?> EmailOfAsync(ScaiKeyDbContext db, TenantContext tenant, string userId, CancellationToken ct) =>
        db.Users.AsNoTracking()
            .Where(u => u.Id == userId && u.TenantId == tenant.Id && u.DeletedAt == null && u.Status == UserStatus.Active)
            .Select(u => u.Email)
            .FirstOrDefaultAsync(ct);
}
