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
/// The tenant's hosted pages under /t/{slug}: login (<see cref="LoginPages"/>), the pages behind password-reset and
/// invitation links (<see cref="PasswordLinkPages"/>), the forced password change (<see cref="ChangePasswordPages"/>), the second factor (<see cref="SecondFactorPages"/>), the
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

        pages.MapLoginPages();
        pages.MapChangePasswordPages();
        pages.MapPasswordLinkPages();
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

    public static IResult Page(int status, HostedView view) => new ComponentResult(status, view);

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
            : Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant, "Signed in", "You are signed in. You can close this window."));
    }

    public static TenantContext Tenant(HttpContext http) =>
        http.Items[TenantItem] as TenantContext ?? throw new InvalidOperationException("No tenant was resolved for this page.");

    public static FormContext Form(HttpContext http, FormProtection forms, TenantContext tenant, string page, IReadOnlyList<string> errors) =>
        new(HostedBrand.Of(tenant), $"{http.Request.PathBase}/t/{tenant.Slug}/{page}", forms.IssueToken(http), errors);

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
        return Users.PasswordChanges.Violations(tenant, email, password)
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
        returnUrl.Length > 0 ? SeeOther(returnUrl) : Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant, "Done", message));

    public static IResult InvalidLink(TenantContext tenant) =>
        Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant, "Link not valid", InvalidLinkText));

    public static IResult BadReturnUrl(TenantContext tenant) =>
        Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant, "Cannot continue",
            "This sign-in address is not valid. Start again from the application you want to use."));

    public static IResult BadForm(TenantContext tenant) =>
        Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant, "Cannot continue", "The form could not be read. Please try again."));

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

    /// <summary>A page rendered from its Razor component (static server rendering: no circuit, no script).</summary>
    private sealed class ComponentResult(int status, HostedView view) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (view.ImageOrigin is { } origin)
            {
                HostedBrand.AllowImage(httpContext.Response, origin);
            }

            // The hosted pages have no Blazor script to act on it: the headers stay those of the string-built pages.
            httpContext.Response.OnStarting(() =>
            {
                httpContext.Response.Headers.Remove("blazor-enhanced-nav");
                return Task.CompletedTask;
            });

            return new Microsoft.AspNetCore.Http.HttpResults.RazorComponentResult(view.Component, view.Parameters)
            {
                StatusCode = status,
                ContentType = "text/html; charset=utf-8",
            }.ExecuteAsync(httpContext);
        }
    }
}
