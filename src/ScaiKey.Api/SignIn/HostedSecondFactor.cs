using ScaiKey.Api.Http;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The hosted pages' sign-in between a right password and the session: an <see cref="MfaChallenge"/> held on the
/// server (HOSTED_SIGN_IN to show a factor, ENROLLMENT when the tenant requires one the user does not have yet),
/// named by a random token in an HttpOnly cookie scoped to the tenant's pages. Nothing of it signs anyone in: the
/// session starts only in <see cref="CompleteAsync"/>.
/// </summary>
internal static class HostedSecondFactor
{
    public const string CookieName = "scaikey_mfa";

    /// <summary>
    /// Holds the sign-in that passed its password check and sends the browser to the second-factor page, or to the
    /// enrolment page when <paramref name="enrol"/>.
    /// </summary>
    public static async Task<IResult> StartAsync(
        HttpContext http, TenantContext tenant, SignInResult result, string? returnUrl, bool enrol, CancellationToken ct,
        PendingFederatedLink? pendingLink = null)
    {
        var challenges = http.RequestServices.GetRequiredService<MfaChallenges>();
        var purpose = enrol ? MfaChallengePurposes.Enrollment : MfaChallengePurposes.HostedSignIn;
        var token = await challenges.CreateAsync(tenant.Id, result.UserId!, purpose, clientId: null,
            new PendingSignInData(returnUrl, result.UpgradedHash, result.PasswordChangeRequired, PendingLink: pendingLink), ct);

        // HttpOnly, only to this tenant's pages, and gone with the browser session or after the step's five minutes.
        // SameSite=Lax like the sign-in cookie; the forms that use it also carry the CSRF token (FormProtection).
        http.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.RequestServices.GetRequiredService<PublicOrigin>().IsHttps || http.Request.IsHttps,
            Path = CookiePath(http, tenant),
            MaxAge = MfaChallenges.Lifetime,
            IsEssential = true,
        });
        return HostedPages.SeeOther(HostedPages.PageUrl(http, tenant.Slug, enrol ? SecondFactorPages.EnrolPage : SecondFactorPages.Page, returnUrl: null));
    }

    /// <summary>The browser's live pending step of <paramref name="purpose"/> for this tenant, or null.</summary>
    public static async Task<MfaChallenge?> FindPendingAsync(HttpContext http, TenantContext tenant, string purpose, CancellationToken ct)
    {
        var pending = await http.RequestServices.GetRequiredService<MfaChallenges>()
            .FindAsync(purpose, http.Request.Cookies[CookieName], ct);
        return pending is { UserId: not null } && pending.TenantId == tenant.Id ? pending : null;
    }

    /// <summary>
    /// Completes a pending sign-in once its second factor was shown (a TOTP or recovery code here; a passkey in the
    /// passkey step): uses the step up, starts the session with <paramref name="amr"/>, sets the sign-in cookie as
    /// the login page does, and continues to the forced password change, the return URL (authorization goes on), or
    /// a signed-in page. A step already used, or a user who can no longer sign in, goes back to the login page.
    /// </summary>
    public static async Task<IResult> CompleteAsync(HttpContext http, MfaChallenge pending, string amr, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var data = PendingSignInData.Read(pending);
        var signIn = http.RequestServices.GetRequiredService<SignInService>();
        if (pending.TenantId != tenant.Id || pending.UserId is null)
        {
            return StartOver(http, tenant, data.ReturnUrl);
        }

        EndCookie(http, tenant);
        var result = new SignInResult(SignInOutcome.Success, pending.UserId, data.PasswordChangeRequired)
        {
            TenantId = tenant.Id,
            UpgradedHash = data.UpgradedHash,
        };
        // The step is used up in the session's own transaction: no session without spending it, and only one.
        if (await signIn.StartSessionAsync(result, http, grantClientId: null, ct, amr, pending.Id) is not { SessionId: var sessionId })
        {
            return StartOver(http, tenant, data.ReturnUrl);
        }

        await SignInCookies.SignInAsync(http, tenant.Id, pending.UserId, sessionId);

        // A link confirmed with the password on the link page is written now that the second factor was shown too.
        if (data.PendingLink is { } link)
        {
            await http.RequestServices.GetRequiredService<Federation.FederatedAccounts>()
                .LinkConfirmedAsync(tenant, link.ProviderId, pending.UserId, link.Claims, ct);
        }

        if (data.PasswordChangeRequired)
        {
            return HostedPages.SeeOther(HostedPages.ChangePasswordUrl(http, tenant.Slug, data.ReturnUrl));
        }

        // The return URL was checked when the password was given (an authorization request, or this tenant's account
        // pages); checked again here, since it comes back from the database.
        return data.ReturnUrl is { Length: > 0 } returnUrl
            && (HostedPages.IsAuthorizeReturnUrl(http, returnUrl) || Account.AccountPages.IsAccountReturnUrl(http, tenant, returnUrl))
            ? HostedPages.SeeOther(returnUrl)
            : HostedPages.Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant, "Signed in", "You are signed in. You can close this window."));
    }

    /// <summary>The pending step is gone (expired, used, too many wrong codes): back to the login page.</summary>
    public static IResult StartOver(HttpContext http, TenantContext tenant, string? returnUrl)
    {
        EndCookie(http, tenant);
        return HostedPages.SeeOther(HostedPages.LoginUrl(http, tenant.Slug, returnUrl));
    }

    private static void EndCookie(HttpContext http, TenantContext tenant) =>
        http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = CookiePath(http, tenant), HttpOnly = true, SameSite = SameSiteMode.Lax });

    private static string CookiePath(HttpContext http, TenantContext tenant) => $"{http.Request.PathBase}/t/{tenant.Slug}/";
}
