using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation;

/// <summary>
/// How every federated protocol (OIDC, SAML) ends once the upstream answer is validated: resolve the account
/// (<see cref="FederatedAccounts"/>), then sign in (amr "fed"), ask for the local user's password, or explain the
/// refusal on a hosted page. Never a 500 and never the upstream's raw error text.
/// </summary>
internal static class FederationPages
{
    public const string Amr = "fed";

    /// <param name="bindingHash">The browser binding of the flow (<see cref="FederationBinding"/>), carried to the link confirmation.</param>
    public static async Task<IResult> CompleteAsync(
        HttpContext http, TenantContext tenant, IdentityProvider provider, UpstreamClaims claims, string? returnUrl, string bindingHash, CancellationToken ct)
    {
        var accounts = http.RequestServices.GetRequiredService<FederatedAccounts>();
        var result = await accounts.ResolveAsync(tenant, provider, claims, ct);
        switch (result.Outcome)
        {
            case FederatedAccountOutcome.NeedsPassword:
                var requests = http.RequestServices.GetRequiredService<FederationRequests>();
                var id = await requests.CreateAsync(FederationRequestKinds.LinkConfirm, tenant.Id, provider.Id,
                    new LinkConfirmData(result.UserId!, claims, returnUrl, bindingHash), ct);
                return HostedPages.SeeOther(FederationLinkPages.Url(http, tenant.Slug, id));
            case FederatedAccountOutcome.Refused:
                return Refused(tenant, result.Reason);
        }

        if (!result.Active)
        {
            await accounts.RefuseAsync(tenant.Id, provider.Id, FederationRefusals.PendingApproval, ct);
            return HostedPages.Page(StatusCodes.Status403Forbidden, HostedPageHtml.Message(tenant, "Account not active",
                "Your account is not active yet (it may await an administrator's approval). Try again later or contact your administrator."));
        }

        // A federated sign-in proves no ScaiKey password: a forced password change does not apply to it.
        var signIn = new SignInResult(SignInOutcome.Success, result.UserId) { TenantId = tenant.Id, HasSecondFactor = result.HasSecondFactor };
        return await HostedPages.FinishSignInAsync(http, tenant, signIn, returnUrl, Amr,
            () => Refused(tenant, FederationRefusals.UserNotActive), ct);
    }

    /// <summary>The hosted page of a refused federated sign-in (already audited by the caller).</summary>
    public static IResult Refused(TenantContext tenant, string? reason)
    {
        var text = reason switch
        {
            FederationRefusals.ProviderDisabled or FederationRefusals.ProviderNotFound =>
                "Sign-in through this identity provider is not available. Use another way to sign in or contact your administrator.",
            FederationRefusals.UserNotActive => "Your account cannot sign in at the moment. Contact your administrator.",
            FederationRefusals.NoEmail or FederationRefusals.InvalidEmail =>
                "The identity provider did not give a usable email address, so no account can be found or made for you.",
            FederationRefusals.UserLinkedElsewhere =>
                "Your account is already linked to another account at this identity provider. Contact your administrator.",
            FederationRefusals.AccessDenied => "The identity provider did not sign you in. Start again from the sign-in page.",
            _ => "The sign-in through the identity provider could not be completed. Start again from the sign-in page.",
        };
        return HostedPages.Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant, "Sign-in failed", text));
    }
}
