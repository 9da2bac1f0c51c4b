using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation;

/// <summary>
/// /t/{slug}/federation/link: a federated sign-in found a local user with the asserted email, but may not link on
/// the provider's word alone (no trust_email, an unverified email, or a user holding roles). The user types their
/// ScaiKey password — through the password sign-in's check, so its limits, lockout and audit apply — and the link
/// is written, then the sign-in finishes like any other. The pending link is a LINK_CONFIRM request bound to the
/// browser that came back from the provider.
/// </summary>
internal static class FederationLinkPages
{
    public const string Page = "federation/link";

    public static void MapFederationLinkPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/" + Page, ShowAsync);
        pages.MapPost("/" + Page, ConfirmAsync);
    }

    public static string Url(HttpContext http, string slug, string requestId) =>
        $"{http.Request.PathBase}/t/{slug}/{Page}?request={Uri.EscapeDataString(requestId)}";

    /// <summary>The services the confirmation needs, bound as one parameter.</summary>
    internal readonly record struct LinkServices(
        [property: FromServices] ScaiKeyDbContext Db, [property: FromServices] FormProtection Forms, [property: FromServices] FederationRequests Requests, [property: FromServices] FederatedAccounts Accounts, [property: FromServices] SignInService SignIn);

    private static async Task<IResult> ShowAsync(HttpContext http, [AsParameters] LinkServices s, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var pending = await PendingAsync(http, s, tenant, http.Request.Query["request"].ToString(), ct);
        return pending is null
            ? Expired(tenant)
            : HostedPages.Page(StatusCodes.Status200OK, await FormAsync(http, s, tenant, pending.Value, [], ct));
    }

    private static async Task<IResult> ConfirmAsync(HttpContext http, [AsParameters] LinkServices s, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        var pending = await PendingAsync(http, s, tenant, form["request"].ToString(), ct);
        if (pending is not { } p)
        {
            return Expired(tenant);
        }

        if (!s.Forms.IsValid(http, form))
        {
            return HostedPages.Page(StatusCodes.Status400BadRequest, await FormAsync(http, s, tenant, p, ["This form has expired. Please try again."], ct));
        }

        var password = form["password"].ToString();
        if (password.Length == 0)
        {
            return HostedPages.Page(StatusCodes.Status200OK, await FormAsync(http, s, tenant, p, ["Enter your password."], ct));
        }

        // The password sign-in's own check: per-IP and per-account limits, lockout, failure audit, the same answer.
        var result = await s.SignIn.CheckPasswordAsync(tenant, p.Email, password, ct);
        if (result.Outcome is SignInOutcome.Limited or SignInOutcome.Busy)
        {
            Problems.SetRetryAfter(http.Response, result.RetryAfter);
            var seconds = http.Response.Headers.RetryAfter.ToString();
            return HostedPages.Page(result.Outcome == SignInOutcome.Limited ? StatusCodes.Status429TooManyRequests : StatusCodes.Status503ServiceUnavailable,
                await FormAsync(http, s, tenant, p, [$"Too many attempts or the service is busy. Wait {seconds} seconds, then try again."], ct));
        }

        if (result.Outcome != SignInOutcome.Success || result.UserId != p.Data.UserId)
        {
            return HostedPages.Page(StatusCodes.Status200OK, await FormAsync(http, s, tenant, p, ["Invalid password."], ct));
        }

        if (!await s.Requests.ConsumeAsync(p.Request.Id, ct))
        {
            return Expired(tenant);
        }

        // With a second factor due, the link waits for it: a phished password alone must not leave a link behind
        // (found in the attacker's review). The second-factor step writes it once the factor is shown.
        if (HostedPages.NeedsSecondFactor(tenant, result))
        {
            return await HostedPages.FinishSignInAsync(http, tenant, result, p.Data.ReturnUrl, "fed pwd",
                () => FederationPages.Refused(tenant, FederationRefusals.UserNotActive), ct,
                new PendingFederatedLink(p.Request.IdentityProviderId, p.Data.Claims));
        }

        var linked = await s.Accounts.LinkConfirmedAsync(tenant, p.Request.IdentityProviderId, p.Data.UserId, p.Data.Claims, ct);
        if (linked.Outcome != FederatedAccountOutcome.SignIn)
        {
            return FederationPages.Refused(tenant, linked.Reason);
        }

        // The user showed their password and the provider's account: both methods are the session's.
        return await HostedPages.FinishSignInAsync(http, tenant, result, p.Data.ReturnUrl, "fed pwd",
            () => FederationPages.Refused(tenant, FederationRefusals.UserNotActive), ct);
    }

    private static async Task<(FederationRequest Request, LinkConfirmData Data, string Email, string ProviderName)?> PendingAsync(
        HttpContext http, LinkServices s, TenantContext tenant, string requestId, CancellationToken ct)
    {
        if (await s.Requests.FindAsync<LinkConfirmData>(requestId, FederationRequestKinds.LinkConfirm, ct) is not { } found
            || found.Request.TenantId != tenant.Id || !FederationBinding.Matches(http, found.Data.BindingHash))
        {
            return null;
        }

        var email = await s.Db.Users.AsNoTracking().Where(u => u.TenantId == tenant.Id && u.Id == found.Data.UserId && u.DeletedAt == null)
            .Select(u => u.Email).FirstOrDefaultAsync(ct);
        var providerName = await s.Db.IdentityProviders.AsNoTracking().Where(i => i.Id == found.Request.IdentityProviderId && i.TenantId == tenant.Id)
            .Select(i => i.Name).FirstOrDefaultAsync(ct);
        return email is null || providerName is null ? null : (found.Request, found.Data, email, providerName);
    }

    private static async Task<HostedView> FormAsync(
        HttpContext http, LinkServices s, TenantContext tenant, (FederationRequest Request, LinkConfirmData Data, string Email, string ProviderName) p,
        IReadOnlyList<string> errors, CancellationToken ct)
    {
        // Lets the redirect chain after the POST reach the application (the login page does the same).
        if (p.Data.ReturnUrl is { } returnUrl)
        {
            await HostedPages.AcceptReturnUrlAsync(http, s.Db, tenant, returnUrl, ct);
        }

        return LinkPage(HostedPages.Form(http, s.Forms, tenant, Page, errors), p.ProviderName, p.Email, p.Request.Id);
    }

    /// <summary>The link page: the account it found, and a field for that account's password.</summary>
    internal static HostedView LinkPage(FormContext form, string providerName, string email, string requestId) =>
        HostedView.Of<Components.FederationLinkPage>(form.Brand, new()
        {
            ["Form"] = form, ["ProviderName"] = providerName, ["Email"] = email, ["RequestId"] = requestId,
        });

    private static IResult Expired(TenantContext tenant) =>
        HostedPages.Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant, "Cannot continue",
            "This sign-in has expired or was already used, or was started in another browser. Start again from the sign-in page."));
}
