using System.Globalization;
using System.Text;
using ScaiKey.Api.SignIn;
using static ScaiKey.Api.SignIn.HostedPageHtml;

namespace ScaiKey.Api.Mfa.Passkeys;

/// <summary>What the login page needs to offer "Sign in with a passkey": where the script gets options and posts the answer.</summary>
public sealed record PasskeySignIn(string OptionsUrl, string Action, string ScriptUrl);

/// <summary>What the account's passkeys page shows.</summary>
internal sealed record PasskeyListPage(
    FormContext Form, string Account, IReadOnlyList<PasskeySummary> Passkeys, string OptionsUrl, string ScriptUrl, string? Status, string? Name);

/// <summary>
/// The passkey parts of the hosted pages, in the style of <see cref="HostedPageHtml"/>. The one script is the
/// service's own /assets/passkeys.js; nothing inline (the CSP allows script-src 'self' only).
/// </summary>
internal static class PasskeyPageHtml
{
    /// <summary>
    /// The login page's passkey button: hidden until the script finds WebAuthn in the browser (without it, or
    /// without script, it would do nothing). It uses the login form's CSRF token and return_url.
    /// </summary>
    public static void SignInButton(StringBuilder body, PasskeySignIn? passkey)
    {
        if (passkey is null)
        {
            return;
        }

        body.Append("<button type=\"button\" class=\"secondary\" data-passkey=\"sign-in\" data-options=\"").Append(Encode(passkey.OptionsUrl))
            .Append("\" data-action=\"").Append(Encode(passkey.Action)).Append("\" hidden>Sign in with a passkey</button>\n");
        Script(body, passkey.ScriptUrl);
    }

    public static HostedHtml AccountPasskeys(PasskeyListPage page) => Document(page.Form.Brand, "Passkeys", body =>
    {
        body.Append("<p class=\"account\">Signed in as <strong>").Append(Encode(page.Account)).Append("</strong></p>\n");
        HostedPageHtml.Errors(body, page.Form.Errors);
        if (page.Status is not null)
        {
            body.Append("<p role=\"status\">").Append(Encode(page.Status)).Append("</p>\n");
        }

        body.Append("<h2 id=\"passkeys-heading\">Your passkeys</h2>\n");
        if (page.Passkeys.Count == 0)
        {
            body.Append("<p>You have no passkeys yet.</p>\n");
        }
        else
        {
            body.Append("<ul class=\"scopes\" aria-labelledby=\"passkeys-heading\">\n");
            foreach (var passkey in page.Passkeys)
            {
                body.Append("<li><strong>").Append(Encode(passkey.Name ?? PasskeyService.DefaultName)).Append("</strong>, added ")
                    .Append(Date(passkey.CreatedAt))
                    .Append(passkey.LastUsedAt is { } used ? ", last used " + Date(used) : ", not used yet").Append("</li>\n");
            }

            body.Append("</ul>\n");
        }

        body.Append("<h2>Add a passkey</h2>\n<p class=\"hint\">A passkey signs you in with your device's screen lock or a security key, without a password.</p>\n");
        body.Append("<form method=\"post\" action=\"").Append(Encode(page.Form.Action)).Append("\" data-passkey=\"register\" data-options=\"")
            .Append(Encode(page.OptionsUrl)).Append("\">\n");
        Hidden(body, FormProtection.FieldName, page.Form.FormToken);
        Hidden(body, "challenge_token", string.Empty);
        Hidden(body, "credential", string.Empty);
        body.Append("<label for=\"name\">Name of the passkey</label>\n")
            .Append("<input id=\"name\" name=\"name\" type=\"text\" autocomplete=\"off\" maxlength=\"").Append(PasskeyService.MaxNameLength)
            .Append("\" aria-describedby=\"name-hint\"");
        if (page.Name is not null)
        {
            body.Append(" value=\"").Append(Encode(page.Name)).Append('"');
        }

        body.Append(">\n<p class=\"hint\" id=\"name-hint\">For example the device or key it is on. Optional.</p>\n");
        body.Append("<button type=\"submit\">Add a passkey</button>\n</form>\n");
        Script(body, page.ScriptUrl);
    });

    private static void Script(StringBuilder body, string url) =>
        body.Append("<script src=\"").Append(Encode(url)).Append("\" defer></script>\n");

    private static string Date(DateTime value) =>
        "<time datetime=\"" + value.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture) + "\">"
        + value.ToString("d MMMM yyyy", CultureInfo.InvariantCulture) + "</time>";
}
