using System.Text;
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

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The tenant's hosted pages under /t/{slug}: login, the pages behind password-reset and invitation links, the forced
/// password change (<see cref="ChangePasswordPages"/>), the second factor (<see cref="SecondFactorPages"/>), the
/// consent page (<see cref="ConsentPages"/>), forgot-password and email verification (<see cref="SelfServicePages"/>).
/// Server-rendered HTML without external assets, under a strict CSP; no script but the service's own passkeys.js
/// where passkeys are offered.
/// </summary>
internal static class HostedPages
{
    // form-action comes last: AcceptReturnUrlAsync appends the application's origin to it.
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

    // Authorization requests carry a handful of short parameters; this is far above any real one.
    public const int MaxReturnUrlLength = 8192;

    private const string TenantItem = "scaikey.hosted-tenant";
    private const string ResetPurpose = "PASSWORD_RESET";
    private const string InvitationPurpose = "INVITATION";
    private const string InvalidLinkText = "This link is not valid: it may have expired or been used already. Ask for a new one.";

    /// <summary>Maps the hosted pages under /t/{slug}; the protocol endpoints are in OpenIdConnect/.</summary>
    public static void MapHostedSignIn(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("/t/{slug}").AllowAnonymous().ExcludeFromDescription();
        pages.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            SetSecurityHeaders(http.Response);
            var slug = (http.GetRouteValue("slug") as string ?? string.Empty).ToLowerInvariant();
            var db = http.RequestServices.GetRequiredService<ScaiKeyDbContext>();
            var tenant = slug.Length is 0 or > 63 ? null : await TenantLookup.FindBySlugAsync(db, slug, http.RequestAborted);
            if (tenant is null)
            {
                return Page(StatusCodes.Status404NotFound, HostedPageHtml.Message(null, "Page not found", "There is no sign-in page at this address."));
            }

            http.Items[TenantItem] = tenant;
            return await next(context);
        });

        pages.MapGet("/login", LoginPageAsync);
        pages.MapPost("/login", LoginAsync);
        pages.MapChangePasswordPages();
        pages.MapGet("/reset-password", (HttpContext http, ScaiKeyDbContext db, FormProtection forms, TimeProvider time, CancellationToken ct) =>
            SetPasswordPageAsync(http, db, forms, time, ResetPurpose, ct));
        pages.MapPost("/reset-password", (HttpContext http, [AsParameters] SetPasswordServices services, CancellationToken ct) =>
            SetPasswordAsync(http, services, ResetPurpose, ct));
        pages.MapGet("/accept-invitation", (HttpContext http, ScaiKeyDbContext db, FormProtection forms, TimeProvider time, CancellationToken ct) =>
            SetPasswordPageAsync(http, db, forms, time, InvitationPurpose, ct));
        pages.MapPost("/accept-invitation", (HttpContext http, [AsParameters] SetPasswordServices services, CancellationToken ct) =>
            SetPasswordAsync(http, services, InvitationPurpose, ct));
        pages.MapConsentPages();
        pages.MapSelfServicePages();
        Account.AccountPages.MapAccountPages(pages);
        pages.MapPasskeyPages();
        app.MapPasskeyScript();
        pages.MapSecondFactorPages();
        Federation.FederationSetup.MapHostedFederation(pages);
    }

    public static string LoginUrl(HttpContext http, string slug, string? returnUrl) =>
        PageUrl(http, slug, "login", returnUrl);

    public static string ChangePasswordUrl(HttpContext http, string slug, string? returnUrl) =>
        PageUrl(http, slug, "change-password", returnUrl);

    /// <summary>
    /// The pages go back only to this server's authorization endpoint, which validates the request all over again:
    /// anything else (another host, "//host", a scheme, another path) would be an open redirect.
    /// </summary>
    public static bool IsAuthorizeReturnUrl(HttpContext http, string value) =>
        value.Length <= MaxReturnUrlLength
        && value.StartsWith(http.Request.PathBase + "/" + OAuthSetup.AuthorizePath + "?", StringComparison.Ordinal)
        && value.All(c => c is > ' ' and < (char)127 && c != '\\');

    /// <summary>Headers of every hosted page: nothing may run, load, frame it, or keep it (the passkey pages load their one script).</summary>
    public static void SetSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XFrameOptions = "DENY";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";

        // Reset and invitation URLs carry their token; no other site may see them in a Referer.
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    public static IResult Page(int status, string html) => new HtmlResult(status, html);

    // ---- login ----

    private static async Task<IResult> LoginPageAsync(HttpContext http, ScaiKeyDbContext db, FormProtection forms, CancellationToken ct)
    {
        var tenant = Tenant(http);
        var returnUrl = http.Request.Query["return_url"].ToString();
        if (returnUrl.Length > 0 && !await AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return BadReturnUrl(tenant);
        }

        var loginHint = returnUrl.Length == 0 ? null : LoginHint(returnUrl);
        var providers = await Federation.FederationLogin.ProvidersAsync(db, tenant.Id, ct);
        Federation.FederationLogin.AllowDiscoveryRedirects(http, providers);
        return Page(StatusCodes.Status200OK,
            HostedPageHtml.Login(Form(http, forms, tenant, "login", []), loginHint, NullIfEmpty(returnUrl), PasskeyEndpoints.OfferSignIn(http, tenant),
                Federation.FederationLogin.Links(http, tenant, providers, NullIfEmpty(returnUrl))));
    }

    private static async Task<IResult> LoginAsync(
        HttpContext http, ScaiKeyDbContext db, FormProtection forms, SignInService signIn, CancellationToken ct)
    {
        var tenant = Tenant(http);
        if (await ReadFormAsync(http, ct) is not { } form)
        {
            return BadForm(tenant);
        }

        var returnUrl = form["return_url"].ToString();
        if (returnUrl.Length > 0 && !await AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return BadReturnUrl(tenant);
        }

        var email = form["email"].ToString().Trim();
        var password = form["password"].ToString();
        var providers = await Federation.FederationLogin.ProvidersAsync(db, tenant.Id, ct);
        Federation.FederationLogin.AllowDiscoveryRedirects(http, providers);
        IResult Again(int status, string error) =>
            Page(status, HostedPageHtml.Login(Form(http, forms, tenant, "login", [error]), email, NullIfEmpty(returnUrl), PasskeyEndpoints.OfferSignIn(http, tenant),
                Federation.FederationLogin.Links(http, tenant, providers, NullIfEmpty(returnUrl))));

        if (!forms.IsValid(http, form))
        {
            return Again(StatusCodes.Status400BadRequest, "This form has expired. Please sign in again.");
        }

        // Home-realm discovery: the email's domain belongs to an identity provider, which signs the user in instead.
        if (email.Length > 0 && Federation.FederationLogin.ForEmail(providers, email) is { } home)
        {
            return SeeOther(Federation.FederationLogin.StartUrl(http, tenant, home, NullIfEmpty(returnUrl)));
        }

        if (email.Length == 0 || password.Length == 0)
        {
            return Again(StatusCodes.Status200OK, "Enter your email address and password.");
        }

        // The abuse limits (failures per client IP and per account, shared with the password grant) are consulted
        // inside the check, before the hash; a full hashing queue answers at once too.
        var result = await signIn.CheckPasswordAsync(tenant, email, password, ct);
        if (result.Outcome is SignInOutcome.Limited or SignInOutcome.Busy)
        {
            Problems.SetRetryAfter(http.Response, result.RetryAfter);
            var seconds = http.Response.Headers.RetryAfter.ToString();
            return result.Outcome == SignInOutcome.Limited
                ? Again(StatusCodes.Status429TooManyRequests, $"Too many sign-in attempts. Wait {seconds} seconds, then try again.")
                : Again(StatusCodes.Status503ServiceUnavailable, $"The service is busy. Wait {seconds} seconds, then try again.");
        }

        if (result.Outcome != SignInOutcome.Success)
        {
            // The same page for an unknown email, a wrong password and a locked, disabled or inactive account.
            return Again(StatusCodes.Status200OK, result.Describe());
        }

        return await FinishSignInAsync(http, tenant, result, NullIfEmpty(returnUrl), "pwd",
            () => Again(StatusCodes.Status200OK, new SignInResult(SignInOutcome.InvalidCredentials).Describe()), ct);
    }

    /// <summary>Whether a sign-in that passed its first factor goes through the second-factor step.</summary>
    public static bool NeedsSecondFactor(TenantContext tenant, SignInResult result) => result.HasSecondFactor || tenant.Settings.MfaPolicy.Required;

    /// <summary>
    /// Everything after a first factor was accepted (the password here; an upstream provider's answer for a
    /// federated sign-in): the second-factor step when the user has a factor or the tenant requires one, else the
    /// session with <paramref name="amr"/> and the sign-in cookie, then the forced password change, the return URL
    /// (checked by the caller) or a signed-in page. <paramref name="failed"/> answers when the user can no longer
    /// sign in (disabled, locked or deleted since the check).
    /// </summary>
    public static async Task<IResult> FinishSignInAsync(
        HttpContext http, TenantContext tenant, SignInResult result, string? returnUrl, string amr, Func<IResult> failed, CancellationToken ct,
        PendingFederatedLink? pendingLink = null)
    {
        // A confirmed second factor, or the tenant's MFA policy, stands between the first factor and the session.
        if (NeedsSecondFactor(tenant, result))
        {
            return await HostedSecondFactor.StartAsync(http, tenant, result, returnUrl, enrol: !result.HasSecondFactor, ct, pendingLink);
        }

        var signIn = http.RequestServices.GetRequiredService<SignInService>();
        if (await signIn.StartSessionAsync(result, http, grantClientId: null, ct, amr) is not { SessionId: var sessionId })
        {
            return failed();
        }

        await SignInCookies.SignInAsync(http, tenant.Id, result.UserId!, sessionId);
        if (result.PasswordChangeRequired)
        {
            return SeeOther(ChangePasswordUrl(http, tenant.Slug, returnUrl));
        }

        return returnUrl is { Length: > 0 }
            ? SeeOther(returnUrl)
            : Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant.Name, "Signed in", "You are signed in. You can close this window."));
    }

    // ---- reset and invitation links ----

    private sealed record ActionTarget(string TokenId, string UserId, string Email);

    /// <summary>The services a set-password POST needs, bound as one parameter to keep the route lambdas short.</summary>
    internal readonly record struct SetPasswordServices(
        ScaiKeyDbContext Db, FormProtection Forms, PasswordHasher Hasher, AuditLog Audit, SignInService SignIn, RevocationCache Revocations, TimeProvider Time);

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

        var hash = s.Hasher.Hash(password);
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
            user.PasswordHash = hash;
            user.PasswordChangedAt = now;
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
                return Page(StatusCodes.Status409Conflict, HostedPageHtml.Message(tenant.Name, "Please try again",
                    "Your account was changed while the password was being set. Open the link again."));
            }

            await transaction.CommitAsync(ct);
        }

        s.Revocations.EvictUser(target.UserId);
        var heading = purpose == ResetPurpose ? "Password changed" : "Account ready";
        return Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant.Name, heading,
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

    private static string SetPasswordForm(
        HttpContext http, FormProtection forms, TenantContext tenant, string purpose, string email, string token, IReadOnlyList<string> errors)
    {
        var (page, heading, button) = purpose == ResetPurpose
            ? ("reset-password", "Reset your password", "Set new password")
            : ("accept-invitation", "Set up your account", "Set password");
        return HostedPageHtml.NewPassword(Form(http, forms, tenant, page, errors), heading, email, button, PasswordHint(tenant),
            new Dictionary<string, string?> { ["token"] = token });
    }

    // ---- shared ----

    public static TenantContext Tenant(HttpContext http) =>
        http.Items[TenantItem] as TenantContext ?? throw new InvalidOperationException("No tenant was resolved for this page.");

    public static FormContext Form(HttpContext http, FormProtection forms, TenantContext tenant, string page, IReadOnlyList<string> errors) =>
        new(tenant.Name, $"{http.Request.PathBase}/t/{tenant.Slug}/{page}", forms.IssueToken(http), errors);

    public static string PageUrl(HttpContext http, string slug, string page, string? returnUrl) =>
        $"{http.Request.PathBase}/t/{slug}/{page}" + (returnUrl is null ? string.Empty : "?return_url=" + Uri.EscapeDataString(returnUrl));

    internal static List<string> NewPasswordErrors(TenantContext tenant, string email, string password, string confirmation)
    {
        if (password.Length == 0)
        {
            return ["Enter a new password."];
        }

        if (!string.Equals(password, confirmation, StringComparison.Ordinal))
        {
            return ["The two passwords do not match."];
        }

        // The policy's sentences start lower-case ("password must be ..."), written for API error lists.
        return PasswordPolicy.Violations(password, email, tenant.Settings.PasswordPolicy)
            .Select(v => char.ToUpperInvariant(v[0]) + v[1..] + ".")
            .ToList();
    }

    internal static string PasswordHint(TenantContext tenant)
    {
        var policy = tenant.Settings.PasswordPolicy;
        var hint = new StringBuilder($"Use {policy.MinLength} to {policy.MaxLength} characters");
        hint.Append(policy.BlockCommonPasswords ? ", not a commonly used password" : string.Empty);
        hint.Append(policy.DisallowEmailLocalPart ? ", and not containing the first part of your email address." : ".");
        return hint.ToString();
    }

    internal static void PasswordChangedNotice(EmailOutbox outbox, TenantContext tenant, string email) =>
        outbox.Enqueue(tenant.Id, email, "password_changed", $"Your {tenant.Name} password was changed",
            $"Hello,\n\nThe password of your {tenant.Name} account was just changed, and your other sessions were signed out.\nIf you did not do this, contact your administrator.\n");

    /// <summary>
    /// Checks a return_url, and lets this page's forms end up at the application: browsers apply form-action to
    /// every redirect that follows a form submission, so the chain login POST, authorization endpoint, client
    /// redirect URI would be blocked by form-action 'self' alone. Only the origin of a redirect URI registered for
    /// the named client of this tenant is added; OpenIddict will still match the full URI exactly.
    /// </summary>
    public static async Task<bool> AcceptReturnUrlAsync(HttpContext http, ScaiKeyDbContext db, TenantContext tenant, string returnUrl, CancellationToken ct)
    {
        // The tenant's own account pages send a user to sign in (again) and expect them back.
        if (Account.AccountPages.IsAccountReturnUrl(http, tenant, returnUrl))
        {
            return true;
        }

        if (!IsAuthorizeReturnUrl(http, returnUrl))
        {
            return false;
        }

        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(returnUrl[returnUrl.IndexOf('?', StringComparison.Ordinal)..]);
        // GetValueOrDefault: a return URL without one of them is not refused here (the endpoint will), nor a 500.
        var clientId = query.GetValueOrDefault(OpenIddict.Abstractions.OpenIddictConstants.Parameters.ClientId).ToString();
        var redirectUri = query.GetValueOrDefault(OpenIddict.Abstractions.OpenIddictConstants.Parameters.RedirectUri).ToString();
        if (clientId.Length == 0 || redirectUri.Length == 0)
        {
            return true;
        }

        var registered = await db.Applications.AsNoTracking()
            .Where(a => a.ClientId == clientId && a.TenantId == tenant.Id)
            .Select(a => a.RedirectUrisJson)
            .FirstOrDefaultAsync(ct);
        if (registered is not null && ApplicationRules.ReadList(registered).Contains(redirectUri, StringComparer.Ordinal)
            && Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri))
        {
            // https/http: the origin; a native app's private-use scheme: the scheme alone (a CSP scheme-source).
            var source = uri.Scheme is "http" or "https" ? uri.GetLeftPart(UriPartial.Authority) : uri.Scheme + ":";
            http.Response.Headers.ContentSecurityPolicy = http.Response.Headers.ContentSecurityPolicy + " " + source;
        }

        return true;
    }

    /// <summary>The login hint an application passed in its authorization request, to fill in the email field.</summary>
    private static string? LoginHint(string returnUrl)
    {
        // An account page return URL has no query (and no hint).
        var start = returnUrl.IndexOf('?', StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(returnUrl[start..]);
        var hint = query.TryGetValue(OpenIddict.Abstractions.OpenIddictConstants.Parameters.LoginHint, out var values) ? values.ToString() : null;
        return hint is { Length: > 0 and <= 320 } ? hint : null;
    }

    public static async Task<IFormCollection?> ReadFormAsync(HttpContext http, CancellationToken ct)
    {
        if (!http.Request.HasFormContentType)
        {
            return null;
        }

        try
        {
            return await http.Request.ReadFormAsync(ct);
        }
        catch (InvalidDataException)
        {
            // Over the form limits (value length, count): not a form these pages produced.
            return null;
        }
    }

    internal static IResult Continue(TenantContext tenant, string returnUrl, string message) =>
        returnUrl.Length > 0 ? SeeOther(returnUrl) : Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant.Name, "Done", message));

    public static IResult InvalidLink(TenantContext tenant) =>
        Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant.Name, "Link not valid", InvalidLinkText));

    public static IResult BadReturnUrl(TenantContext tenant) =>
        Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant.Name, "Cannot continue",
            "This sign-in address is not valid. Start again from the application you want to use."));

    public static IResult BadForm(TenantContext tenant) =>
        Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant.Name, "Cannot continue", "The form could not be read. Please try again."));

    internal static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>303: the browser follows a form POST with a GET.</summary>
    public static IResult SeeOther(string url) => new SeeOtherResult(url);

    private sealed class SeeOtherResult(string url) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = url;
            return Task.CompletedTask;
        }
    }

    private sealed class HtmlResult(int status, string html) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "text/html; charset=utf-8";
            await httpContext.Response.WriteAsync(html, Encoding.UTF8, httpContext.RequestAborted);
        }
    }
}
