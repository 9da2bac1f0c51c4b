using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;

namespace ScaiKey.Api.Account;

/// <summary>
/// The hosted account page /t/{slug}/account: the user signed in through the sign-in cookie manages their password,
/// second factors, recovery codes and sessions (the same <see cref="AccountService"/> as /api/v1/me). Without a
/// sign-in the browser goes to the login page and comes back; a password change or a factor's removal needs a sign-in
/// in the last five minutes, else the page sends the user to sign in again (a fresh sign-in is a fresh session).
/// </summary>
internal static class AccountPages
{
    /// <summary>Maps the pages into the hosted group, which resolves the tenant and sets the pages' security headers.</summary>
    public static void MapAccountPages(RouteGroupBuilder pages)
    {
        pages.MapGet("/account", PageAsync);
        pages.MapPost("/account/password", ChangePasswordAsync);
        pages.MapPost("/account/totp", BeginTotpAsync);
        pages.MapPost("/account/totp/confirm", ConfirmTotpAsync);
        pages.MapPost("/account/recovery-codes", RecoveryCodesAsync);
        pages.MapPost("/account/factors/remove", RemoveFactorAsync);
        pages.MapPost("/account/sessions/end", EndSessionAsync);
    }

    /// <summary>
    /// A return_url naming this tenant's account page or a page under it (the passkeys page), which the login page may
    /// send the browser back to: a fixed path on this server, never another host or tenant.
    /// </summary>
    public static bool IsAccountReturnUrl(HttpContext http, TenantContext tenant, string value)
    {
        var root = Root(http, tenant);
        if (value == root)
        {
            return true;
        }

        return value.StartsWith(root + "/", StringComparison.Ordinal) && value.Length <= root.Length + 64
            && value[(root.Length + 1)..].Split('/').All(segment => segment.Length > 0 && segment.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'));
    }

    private static string Root(HttpContext http, TenantContext tenant) => $"{http.Request.PathBase}/t/{tenant.Slug}/account";

    /// <summary>The services every account page handler uses, bound as one parameter.</summary>
    internal readonly record struct PageServices([property: FromServices] ScaiKeyDbContext Db, [property: FromServices] FormProtection Forms, [property: FromServices] AccountService Account);

    private sealed record Visit(TenantContext Tenant, SignedInUser User, IFormCollection? Form);

    /// <summary>
    /// The signed-in user and, for a POST, its checked form; otherwise the response to send instead (to the login page,
    /// or the page again with "this form has expired").
    /// </summary>
    private static async Task<(Visit? Visit, IResult? Instead)> BeginAsync(HttpContext http, PageServices s, bool post, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var form = post ? await HostedPages.ReadFormAsync(http, ct) : null;
        if (post && form is null)
        {
            return (null, HostedPages.BadForm(tenant));
        }

        var user = await SignInCookies.SignedInUserAsync(http, s.Db, tenant.Id, ct);
        if (user is null)
        {
            return (null, HostedPages.SeeOther(HostedPages.LoginUrl(http, tenant.Slug, Root(http, tenant))));
        }

        if (user.RequirePasswordChange)
        {
            return (null, HostedPages.SeeOther(HostedPages.ChangePasswordUrl(http, tenant.Slug, Root(http, tenant))));
        }

        var visit = new Visit(tenant, user, form);
        if (form is not null && !s.Forms.IsValid(http, form))
        {
            return (null, await RenderAsync(http, s, visit, StatusCodes.Status400BadRequest, null, ["This form has expired. Please try again."], ct));
        }

        return (visit, null);
    }

    private static async Task<IResult> RenderAsync(
        HttpContext http, PageServices s, Visit visit, int status, string? notice, IReadOnlyList<string> errors, CancellationToken ct)
    {
        var (tenant, user) = (visit.Tenant, visit.User);
        var policy = tenant.Settings.PasswordPolicy;
        var view = new AccountView(
            HostedBrand.Of(tenant), Root(http, tenant), user.Email, s.Forms.IssueToken(http),
            await s.Account.IsRecentSignInAsync(tenant.Id, user.UserId, user.SessionId, ct),
            HostedPages.LoginUrl(http, tenant.Slug, Root(http, tenant)),
            await s.Account.FactorsAsync(tenant.Id, user.UserId, ct),
            await s.Account.SessionsAsync(tenant.Id, user.UserId, user.SessionId, ct),
            notice, errors, $"Use {policy.MinLength} to {policy.MaxLength} characters.");
        return HostedPages.Page(status, AccountPageHtml.Page(view));
    }

    private static async Task<IResult> PageAsync(HttpContext http, [AsParameters] PageServices s, CancellationToken ct)
    {
        var (visit, instead) = await BeginAsync(http, s, post: false, ct);
        return instead ?? await RenderAsync(http, s, visit!, StatusCodes.Status200OK, null, [], ct);
    }

    /// <summary>
    /// For the changes that need a recent sign-in (password, and every change to the factors: a session borrowed or
    /// stolen hours ago must not be able to add a way in of its own): the login page, which brings the user back here.
    /// </summary>
    private static async Task<IResult?> StaleAsync(HttpContext http, PageServices s, Visit visit, CancellationToken ct) =>
        await s.Account.IsRecentSignInAsync(visit.Tenant.Id, visit.User.UserId, visit.User.SessionId, ct)
            ? null
            : HostedPages.SeeOther(HostedPages.LoginUrl(http, visit.Tenant.Slug, Root(http, visit.Tenant)));

    private static async Task<IResult> ChangePasswordAsync(HttpContext http, [AsParameters] PageServices s, CancellationToken ct)
    {
        var (visit, instead) = await BeginAsync(http, s, post: true, ct);
        if ((instead ?? await StaleAsync(http, s, visit!, ct)) is { } refused)
        {
            return refused;
        }

        var form = visit!.Form!;
        var password = form["new_password"].ToString();
        if (password.Length == 0 || !string.Equals(password, form["confirm_password"].ToString(), StringComparison.Ordinal))
        {
            return await RenderAsync(http, s, visit, StatusCodes.Status200OK, null,
                [password.Length == 0 ? "Enter a new password." : "The two new passwords do not match."], ct);
        }

        var result = await s.Account.ChangePasswordAsync(visit.Tenant, visit.User.UserId, visit.User.SessionId, form["current_password"].ToString(), password, ct);
        IReadOnlyList<string> errors = result.Outcome switch
        {
            PasswordChangeOutcome.Changed => [],
            PasswordChangeOutcome.WrongCurrentPassword => ["Your current password is not correct."],
            PasswordChangeOutcome.SameAsCurrent => ["Choose a password different from the current one."],
            PasswordChangeOutcome.Limited => ["Too many attempts. Wait a minute, then try again."],
            PasswordChangeOutcome.PolicyViolations => [.. (result.Violations ?? []).Select(v => char.ToUpperInvariant(v[0]) + v[1..] + ".")],
            _ => ["Your account was changed meanwhile. Please try again."],
        };
        return errors.Count == 0
            ? await RenderAsync(http, s, visit, StatusCodes.Status200OK, "Your password was changed. Your other sessions were signed out.", [], ct)
            : await RenderAsync(http, s, visit, result.Outcome == PasswordChangeOutcome.Limited ? StatusCodes.Status429TooManyRequests : StatusCodes.Status200OK, null, errors, ct);
    }

    private static async Task<IResult> BeginTotpAsync(HttpContext http, [AsParameters] PageServices s, CancellationToken ct)
    {
        var (visit, instead) = await BeginAsync(http, s, post: true, ct);
        if ((instead ?? await StaleAsync(http, s, visit!, ct)) is { } refused)
        {
            return refused;
        }

        var name = visit!.Form!["name"].ToString().Trim();
        if (name.Length > AccountInput.MaxFactorName)
        {
            return await RenderAsync(http, s, visit, StatusCodes.Status200OK, null, [$"Use at most {AccountInput.MaxFactorName} characters for the name."], ct);
        }

        var enrolment = await s.Account.BeginTotpAsync(visit.Tenant, visit.User.UserId, name.Length == 0 ? null : name, ct);
        if (enrolment is null)
        {
            return HostedPages.SeeOther(HostedPages.LoginUrl(http, visit.Tenant.Slug, Root(http, visit.Tenant)));
        }

        return HostedPages.Page(StatusCodes.Status200OK, AccountPageHtml.Enrolment(
            ConfirmForm(http, s, visit, []), enrolment.Secret, enrolment.OtpAuthUri, enrolment.FactorId, Root(http, visit.Tenant)));
    }

    private static async Task<IResult> ConfirmTotpAsync(HttpContext http, [AsParameters] PageServices s, CancellationToken ct)
    {
        var (visit, instead) = await BeginAsync(http, s, post: true, ct);
        if ((instead ?? await StaleAsync(http, s, visit!, ct)) is { } refused)
        {
            return refused;
        }

        var factorId = visit!.Form!["factor_id"].ToString();
        var codes = await s.Account.ConfirmTotpAsync(visit.Tenant.Id, visit.User.UserId, factorId, visit.Form["code"].ToString(), ct);
        if (codes is null)
        {
            return await RenderAsync(http, s, visit, StatusCodes.Status200OK, null, ["This set-up has expired or was replaced. Start again."], ct);
        }

        if (codes.Count == 0)
        {
            // The secret is not shown again (it was shown once); the user still has it in the app, or starts over.
            return HostedPages.Page(StatusCodes.Status200OK, AccountPageHtml.Enrolment(
                ConfirmForm(http, s, visit, ["That code is not valid. Enter the code the app shows now."]), null, null, factorId, Root(http, visit.Tenant)));
        }

        return HostedPages.Page(StatusCodes.Status200OK, AccountPageHtml.RecoveryCodes(HostedBrand.Of(visit.Tenant), codes, Root(http, visit.Tenant)));
    }

    private static FormContext ConfirmForm(HttpContext http, PageServices s, Visit visit, IReadOnlyList<string> errors) =>
        new(HostedBrand.Of(visit.Tenant), Root(http, visit.Tenant) + "/totp/confirm", s.Forms.IssueToken(http), errors);

    private static async Task<IResult> RecoveryCodesAsync(HttpContext http, [AsParameters] PageServices s, CancellationToken ct)
    {
        var (visit, instead) = await BeginAsync(http, s, post: true, ct);
        if ((instead ?? await StaleAsync(http, s, visit!, ct)) is { } refused)
        {
            return refused;
        }

        return await s.Account.NewRecoveryCodesAsync(visit!.Tenant.Id, visit.User.UserId, ct) is { } codes
            ? HostedPages.Page(StatusCodes.Status200OK, AccountPageHtml.RecoveryCodes(HostedBrand.Of(visit.Tenant), codes, Root(http, visit.Tenant)))
            : await RenderAsync(http, s, visit, StatusCodes.Status409Conflict, null, ["Recovery codes need a second factor. Set one up first."], ct);
    }

    private static async Task<IResult> RemoveFactorAsync(HttpContext http, [AsParameters] PageServices s, CancellationToken ct)
    {
        var (visit, instead) = await BeginAsync(http, s, post: true, ct);
        if ((instead ?? await StaleAsync(http, s, visit!, ct)) is { } refused)
        {
            return refused;
        }

        var removed = await s.Account.RemoveFactorAsync(visit!.Tenant.Id, visit.User.UserId, visit.Form!["factor_id"].ToString(), ct);
        return removed
            ? await RenderAsync(http, s, visit, StatusCodes.Status200OK, "The factor was removed.", [], ct)
            : await RenderAsync(http, s, visit, StatusCodes.Status404NotFound, null, ["That factor does not exist (any more)."], ct);
    }

    private static async Task<IResult> EndSessionAsync(HttpContext http, [AsParameters] PageServices s, CancellationToken ct)
    {
        var (visit, instead) = await BeginAsync(http, s, post: true, ct);
        if (instead is not null)
        {
            return instead;
        }

        var sessionId = visit!.Form!["session_id"].ToString();
        if (!await s.Account.EndSessionAsync(visit.Tenant.Id, visit.User.UserId, sessionId, ct))
        {
            return await RenderAsync(http, s, visit, StatusCodes.Status404NotFound, null, ["That session does not exist or has ended already."], ct);
        }

        if (sessionId == visit.User.SessionId)
        {
            await SignInCookies.SignOutAsync(http);
            return HostedPages.Page(StatusCodes.Status200OK, HostedPageHtml.Message(visit.Tenant, "Signed out", "You are signed out in this browser.",
                (HostedPages.LoginUrl(http, visit.Tenant.Slug, Root(http, visit.Tenant)), "Sign in again")));
        }

        return await RenderAsync(http, s, visit, StatusCodes.Status200OK, "The session was ended; its sign-in no longer works.", [], ct);
    }
}
