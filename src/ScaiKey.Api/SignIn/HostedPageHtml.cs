using ScaiKey.Api.OpenIdConnect;
using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.SignIn;

/// <summary>What a hosted form needs besides its fields: where it posts, its CSRF token, and what went wrong.</summary>
/// <remarks>Public: Razor components are public classes and take it as a parameter.</remarks>
public sealed record FormContext(HostedBrand? Brand, string Action, string FormToken, IReadOnlyList<string> Errors);

/// <summary>
/// The hosted pages' views: each factory names the Razor component of a page (SignIn/Components and the features'
/// Components folders) and its parameters. One document per response, inline CSS only, no external assets (the CSP
/// forbids them anyway), no scripts but the service's own passkeys.js on the pages that offer passkeys; Razor encodes
/// every value where it is written.
/// </summary>
internal static class HostedPageHtml
{
    internal const string ErrorRegionId = "form-errors";

    internal const string Style = """
        :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        body { margin: 0; min-height: 100vh; display: flex; align-items: flex-start; justify-content: center; background: Canvas; color: CanvasText; }
        main { width: 100%; max-width: 26rem; margin: 4rem 1rem; padding: 2rem; border: 1px solid GrayText; border-radius: 0.5rem; }
        .logo { display: block; max-width: 12rem; max-height: 4rem; margin: 0 0 0.75rem; }
        .tenant { margin: 0 0 0.25rem; font-size: 1rem; font-weight: 600; }
        h1 { margin: 0 0 1.5rem; font-size: 1.5rem; }
        label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
        input[type=email], input[type=password], input[type=text] { box-sizing: border-box; width: 100%; padding: 0.6rem; font-size: 1rem; border: 1px solid CanvasText; border-radius: 0.25rem; background: Field; color: FieldText; }
        input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid Highlight; outline-offset: 2px; }
        button { margin-top: 1.5rem; width: 100%; padding: 0.7rem; font-size: 1rem; font-weight: 600; border: 0; border-radius: 0.25rem; background: #1a56db; color: #fff; cursor: pointer; }
        .hint { margin: 0.25rem 0 0; font-size: 0.875rem; }
        .errors:empty { display: none; }
        .errors { margin: 0 0 1rem; padding: 0.75rem 1rem; border: 2px solid #c81e1e; border-radius: 0.25rem; }
        .errors p, .errors ul { margin: 0; }
        .errors ul { padding-left: 1.25rem; }
        .account { overflow-wrap: anywhere; }
        button.secondary { margin-top: 0.75rem; background: transparent; color: CanvasText; border: 1px solid CanvasText; }
        .scopes { padding-left: 1.25rem; }
        .scopes li { margin: 0.25rem 0; }
        .qr svg { display: block; width: 12rem; height: 12rem; margin: 0 auto; background: #fff; }
        .secret, .codes { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
        .codes { columns: 2; padding-left: 1.25rem; }
        .providers { list-style: none; margin: 1rem 0 0; padding: 0; }
        a.provider { display: block; margin-top: 0.75rem; padding: 0.7rem; text-align: center; font-weight: 600; border: 1px solid CanvasText; border-radius: 0.25rem; color: CanvasText; text-decoration: none; }
        """;

    public static HostedView Login(
        FormContext form, string? email, string? returnUrl, Mfa.Passkeys.PasskeySignIn? passkey = null,
        IReadOnlyList<Federation.LoginProviderLink>? providers = null) =>
        HostedView.Of<Components.LoginPage>(form.Brand, new()
        {
            ["Form"] = form, ["Email"] = email, ["ReturnUrl"] = returnUrl, ["Passkey"] = passkey, ["Providers"] = providers,
        });

    /// <summary>Asks for the address to send a reset link to; what happens next is the same whatever is typed.</summary>
    public static HostedView ForgotPassword(FormContext form, string? email, string? returnUrl) =>
        HostedView.Of<Components.ForgotPasswordPage>(form.Brand, new() { ["Form"] = form, ["Email"] = email, ["ReturnUrl"] = returnUrl });

    /// <summary>The page behind a verification link: a button, so a mail scanner that opens links spends nothing.</summary>
    public static HostedView ConfirmEmail(FormContext form, string account, string token) =>
        HostedView.Of<Components.ConfirmEmailPage>(form.Brand, new() { ["Form"] = form, ["Account"] = account, ["Token"] = token });

    /// <summary>The forced change after sign-in, and the pages behind reset and invitation links.</summary>
    public static HostedView NewPassword(FormContext form, string heading, string account, string buttonText, string passwordHint, IReadOnlyDictionary<string, string?> hidden) =>
        HostedView.Of<Components.NewPasswordPage>(form.Brand, new()
        {
            ["Form"] = form, ["Heading"] = heading, ["Account"] = account, ["ButtonText"] = buttonText, ["PasswordHint"] = passwordHint, ["Hidden"] = hidden,
        });

    /// <summary>
    /// Asks the signed-in user to let an application have the listed permissions (already in plain words); Allow
    /// and Deny are two submit buttons of one form, told apart by the decision field.
    /// </summary>
    public static HostedView Consent(FormContext form, string applicationName, string account, IReadOnlyList<string> permissions, string returnUrl) =>
        HostedView.Of<Components.ConsentPage>(form.Brand, new()
        {
            ["Form"] = form, ["ApplicationName"] = applicationName, ["Account"] = account, ["Permissions"] = permissions, ["ReturnUrl"] = returnUrl,
        });

    /// <summary>A page that only tells something: signed in, signed out, a dead link, an unknown tenant.</summary>
    public static HostedView Message(TenantContext? tenant, string heading, string text, (string Href, string Text)? link = null) =>
        HostedView.Of<Components.MessagePage>(HostedBrand.Of(tenant), new()
        {
            ["Brand"] = HostedBrand.Of(tenant), ["Heading"] = heading, ["Text"] = text, ["LinkHref"] = link?.Href, ["LinkText"] = link?.Text,
        });

    /// <summary>
    /// The logout confirmation (RP-Initiated Logout, section 2): the end-session request's own parameters go back as
    /// hidden fields, so the POST is validated like the original request.
    /// </summary>
    public static HostedView LogoutConfirmation(
        TenantContext? tenant, string? applicationName, string action, string formToken, IEnumerable<KeyValuePair<string, string>> parameters,
        IReadOnlyList<string> errors)
    {
        var brand = HostedBrand.Of(tenant);
        var hidden = parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))
            .Append(new(LogoutEndpoints.ConfirmField, "yes"))
            .ToList();
        return HostedView.Of<Components.LogoutConfirmationPage>(brand, new()
        {
            ["Form"] = new FormContext(brand, action, formToken, errors), ["ApplicationName"] = applicationName, ["Hidden"] = hidden,
        });
    }

    /// <summary>Another page of the same tenant (the form's action is /t/{slug}/{page}), keeping the return URL.</summary>
    internal static string SiblingUrl(FormContext form, string page, string? returnUrl) =>
        form.Action[..(form.Action.LastIndexOf('/') + 1)] + page + (returnUrl is null ? string.Empty : "?return_url=" + Uri.EscapeDataString(returnUrl));
}
