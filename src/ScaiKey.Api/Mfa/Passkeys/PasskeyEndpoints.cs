using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FromServicesAttribute = Microsoft.AspNetCore.Mvc.FromServicesAttribute;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Mfa.Passkeys;

/// <summary>
/// The hosted pages' passkeys: the account's passkeys page (list, register), passwordless sign-in from the login
/// page, and the two JSON endpoints the script gets ceremony options from. Registration needs the sign-in cookie;
/// every POST needs the page's CSRF token (<see cref="FormProtection"/>), whose cookie is SameSite=Strict.
/// </summary>
internal static class PasskeyEndpoints
{
    public const string ScriptPath = "/assets/passkeys.js";

    /// <summary>The hosted pages' CSP plus the service's own script and the fetch of ceremony options.</summary>
    private const string ScriptSources = "script-src 'self'; connect-src 'self'; ";

    private const string FailedText = "Your passkey could not be used to sign in. Try again, or sign in with your password.";

    private static readonly Lazy<(byte[] Bytes, string ETag)> Script = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("passkeys.js")
            ?? throw new InvalidOperationException("The passkeys.js resource is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        return (bytes, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
    });

    /// <summary>The script, outside the tenant pages: the same file for every tenant.</summary>
    public static void MapPasskeyScript(this IEndpointRouteBuilder app) =>
        app.MapGet(ScriptPath, (HttpContext http) =>
        {
            var (bytes, etag) = Script.Value;
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers.ETag = etag;
            return http.Request.Headers.IfNoneMatch == etag
                ? Results.StatusCode(StatusCodes.Status304NotModified)
                : Results.Bytes(bytes, "text/javascript; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();

    /// <summary>Maps the pages inside the hosted group, whose filter has resolved the tenant and set the pages' headers.</summary>
    public static void MapPasskeyPages(this RouteGroupBuilder pages)
    {
        var group = pages.MapGroup(string.Empty);
        group.AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<PasskeyRelyingParty>().Enabled
                ? await next(context)
                : HostedPages.Page(StatusCodes.Status404NotFound, HostedPageHtml.Message(null, "Page not found", "Passkeys are not enabled.")));
        group.MapGet("/account/passkeys", AccountPageAsync);
        group.MapPost("/account/passkeys", RegisterAsync);
        group.MapPost("/passkeys/registration-options", RegistrationOptionsAsync);
        group.MapPost("/passkeys/assertion-options", AssertionOptionsAsync);
        group.MapPost("/passkeys/sign-in", SignInAsync);
    }

    /// <summary>
    /// The login page's passkey button, or null when passkeys are off. Lets this response load the script and fetch
    /// the options; call it after <see cref="HostedPages.AcceptReturnUrlAsync"/>, whose form-action source it keeps.
    /// </summary>
    public static PasskeySignIn? OfferSignIn(HttpContext http, TenantContext tenant)
    {
        if (!http.RequestServices.GetRequiredService<PasskeyRelyingParty>().Enabled)
        {
            return null;
        }

        AllowScript(http.Response);
        var pages = $"{http.Request.PathBase}/t/{tenant.Slug}/passkeys/";
        return new PasskeySignIn(pages + "assertion-options", pages + "sign-in", http.Request.PathBase + ScriptPath);
    }

    /// <summary>
    /// Lets a hosted page load passkeys.js and fetch ceremony options (e.g. the MFA step's "Use a passkey"): inserts
    /// the script sources before form-action, which stays last for AcceptReturnUrlAsync to extend.
    /// </summary>
    public static void AllowScript(HttpResponse response)
    {
        var policy = response.Headers.ContentSecurityPolicy.ToString();
        if (!policy.Contains(ScriptSources, StringComparison.Ordinal))
        {
            var at = policy.IndexOf("form-action", StringComparison.Ordinal);
            response.Headers.ContentSecurityPolicy = at < 0 ? policy + "; " + ScriptSources.TrimEnd(' ', ';') : policy.Insert(at, ScriptSources);
        }
    }

    // ---- the account's passkeys ----

    private static string AccountPageUrl(HttpContext http, TenantContext tenant) => $"{http.Request.PathBase}/t/{tenant.Slug}/account/passkeys";

    private static async Task<IResult> AccountPageAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] PasskeyService passkeys, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var user = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        if (user is null || user.RequirePasswordChange)
        {
            return SignInFirst(http, tenant, user);
        }

        var added = http.Request.Query["added"] == "1" ? "Your passkey was added." : null;
        return await RenderAccountPageAsync(http, forms, passkeys, tenant, user, StatusCodes.Status200OK, [], added, name: null, ct);
    }

    /// <summary>Completes a registration the script began: the new credential, its challenge token and a name.</summary>
    private static async Task<IResult> RegisterAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] PasskeyService passkeys, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        var user = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        if (user is null || user.RequirePasswordChange || !await IsRecentAsync(http, tenant, user, ct))
        {
            return SignInFirst(http, tenant, user is { RequirePasswordChange: true } ? user : null);
        }

        var name = form["name"].ToString();
        Task<IResult> Again(int status, string error) =>
            RenderAccountPageAsync(http, forms, passkeys, tenant, user, status, [error], status: null, name, ct);

        if (!forms.IsValid(http, form))
        {
            return await Again(StatusCodes.Status400BadRequest, "This form has expired. Please try again.");
        }

        if (PasskeyService.NameError(name) is { } nameError)
        {
            return await Again(StatusCodes.Status200OK, nameError);
        }

        var credential = form["credential"].ToString();
        if (credential.Length == 0)
        {
            return await Again(StatusCodes.Status200OK, "Your browser did not create a passkey. Passkeys need JavaScript and a browser that supports them.");
        }

        var result = await passkeys.CompleteRegistrationAsync(tenant, user.UserId, form["challenge_token"].ToString(), credential, name, ct);
        if (!result.Succeeded)
        {
            return await Again(StatusCodes.Status200OK, result.Failure == PasskeyFailure.AlreadyRegistered
                ? "This passkey is already registered."
                : "The passkey could not be added. Please try again.");
        }

        // Post/redirect/get: reloading the page does not post the used-up ceremony again.
        return HostedPages.SeeOther(AccountPageUrl(http, tenant) + "?added=1");
    }

    private static async Task<IResult> RenderAccountPageAsync(
        HttpContext http, FormProtection forms, PasskeyService passkeys, TenantContext tenant, SignedInUser user, int statusCode,
        IReadOnlyList<string> errors, string? status, string? name, CancellationToken ct)
    {
        AllowScript(http.Response);
        var list = await passkeys.ListAsync(tenant.Id, user.UserId, ct);
        var form = HostedPages.Form(http, forms, tenant, "account/passkeys", errors);
        var page = new PasskeyListPage(form, user.Email, list, $"{http.Request.PathBase}/t/{tenant.Slug}/passkeys/registration-options",
            http.Request.PathBase + ScriptPath, status, name);
        return HostedPages.Page(statusCode, PasskeyPageHtml.AccountPasskeys(page));
    }

    /// <summary>
    /// A new passkey is a new way in: like every change to the factors it needs a sign-in in the last 5 minutes, so
    /// a session borrowed or stolen long ago cannot plant one (Account/AccountService.IsRecentSignInAsync).
    /// </summary>
    private static Task<bool> IsRecentAsync(HttpContext http, TenantContext tenant, SignedInUser user, CancellationToken ct) =>
        http.RequestServices.GetRequiredService<Account.AccountService>().IsRecentSignInAsync(tenant.Id, user.UserId, user.SessionId, ct);

    /// <summary>To the login page (or the forced password change), and back here afterwards.</summary>
    private static IResult SignInFirst(HttpContext http, TenantContext tenant, SignedInUser? user) =>
        HostedPages.SeeOther(user is null
            ? HostedPages.LoginUrl(http, tenant.Slug, AccountPageUrl(http, tenant))
            : HostedPages.ChangePasswordUrl(http, tenant.Slug, AccountPageUrl(http, tenant)));

    // ---- ceremony options for the script ----

    private static async Task<IResult> RegistrationOptionsAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] PasskeyService passkeys, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await CheckedFormAsync(http, forms, ct) is { } refused)
        {
            return refused;
        }

        var user = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        if (user is null || user.RequirePasswordChange || !await IsRecentAsync(http, tenant, user, ct)
            || await passkeys.BeginRegistrationAsync(tenant, user.UserId, ct) is not { } ceremony)
        {
            return Problems.Forbidden("Sign in on this page's tenant (again, if it was more than 5 minutes ago), then add a passkey.");
        }

        return Options(ceremony);
    }

    private static async Task<IResult> AssertionOptionsAsync(HttpContext http, [FromServices] FormProtection forms, [FromServices] PasskeyService passkeys, CancellationToken ct)
    {
        if (await CheckedFormAsync(http, forms, ct) is { } refused)
        {
            return refused;
        }

        var ceremony = await passkeys.BeginAssertionAsync(HostedPages.Tenant(http), userId: null, ct);
        return Options(ceremony!);
    }

    /// <summary>The form-encoded POST with the page's CSRF token; problem+json when it is missing or does not match the cookie.</summary>
    internal static async Task<IResult?> CheckedFormAsync(HttpContext http, FormProtection forms, CancellationToken ct)
    {
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return new ProblemResult(StatusCodes.Status400BadRequest, "Send the page's form_token as a form (application/x-www-form-urlencoded).");
        }

        return forms.IsValid(http, form)
            ? null
            : new ProblemResult(StatusCodes.Status400BadRequest, "The page has expired (form_token does not match). Reload it and try again.");
    }

    internal static IResult Options(PasskeyCeremony ceremony) =>
        Results.Text(new JsonObject
        {
            ["challenge_token"] = ceremony.ChallengeToken,
            ["public_key"] = JsonNode.Parse(ceremony.OptionsJson),
        }.ToJsonString(), "application/json");

    // ---- passwordless sign-in ----

    /// <summary>
    /// Signs in with a passkey alone (user verification required: two factors, amr "hwk mfa"), then continues like
    /// the password form: the forced password change if due, else the application's authorization request.
    /// </summary>
    private static async Task<IResult> SignInAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] PasskeyService passkeys, [FromServices] SignInService signIn, [FromServices] AuditLog audit, CancellationToken ct)
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

        IResult Again(int status, string error) => HostedPages.Page(status, HostedPageHtml.Login(
            HostedPages.Form(http, forms, tenant, "login", [error]), null, returnUrl.Length == 0 ? null : returnUrl, OfferSignIn(http, tenant)));

        if (!forms.IsValid(http, form))
        {
            return Again(StatusCodes.Status400BadRequest, "This form has expired. Please sign in again.");
        }

        var result = await passkeys.CompleteAssertionAsync(tenant, form["challenge_token"].ToString(), form["credential"].ToString(), expectedUserId: null, ct);
        if (!result.Succeeded)
        {
            // The audit says why; the user is told only that it did not work. Without a known passkey there is no
            // user to name: the event targets the tenant.
            audit.RecordAs(SignInService.SystemActor, "sign_in", "user.sign_in_failed", result.UserId is null ? "tenant" : "user",
                result.UserId ?? tenant.Id, tenant.Id, reason: "passkey_" + result.Failure.ToString().ToLowerInvariant());
            await db.SaveChangesAsync(ct);
            return Again(StatusCodes.Status200OK, FailedText);
        }

        var requirePasswordChange = await db.Users.AsNoTracking()
            .Where(u => u.Id == result.UserId && u.TenantId == tenant.Id)
            .Select(u => u.RequirePasswordChange)
            .FirstOrDefaultAsync(ct);
        var checkedIn = new SignInResult(SignInOutcome.Success, result.UserId, requirePasswordChange) { TenantId = tenant.Id };

        // The session's own statement re-checks that the account is ACTIVE and not deleted.
        if (await signIn.StartSessionAsync(checkedIn, http, grantClientId: null, ct, amr: result.Amr) is not { SessionId: var sessionId })
        {
            audit.RecordAs(SignInService.SystemActor, "sign_in", "user.sign_in_failed", "user", result.UserId!, tenant.Id, reason: "passkey_not_active");
            await db.SaveChangesAsync(ct);
            return Again(StatusCodes.Status200OK, FailedText);
        }

        // user.signed_in (with the amr) was written in the session's own transaction.
        await SignInCookies.SignInAsync(http, tenant.Id, result.UserId!, sessionId);
        if (requirePasswordChange)
        {
            return HostedPages.SeeOther(HostedPages.ChangePasswordUrl(http, tenant.Slug, returnUrl.Length == 0 ? null : returnUrl));
        }

        return returnUrl.Length > 0
            ? HostedPages.SeeOther(returnUrl)
            : HostedPages.Page(StatusCodes.Status200OK, HostedPageHtml.Message(tenant, "Signed in", "You are signed in. You can close this window."));
    }
}
