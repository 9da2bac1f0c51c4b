using System.Text;
using static ScaiKey.Api.SignIn.HostedPageHtml;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// The HTML of the second-factor pages (<see cref="SecondFactorPages"/>), built with the hosted pages' document,
/// error summary and form helpers: the same styles, CSP and accessibility.
/// </summary>
internal static class SecondFactorHtml
{
    /// <summary>
    /// Asks for a code from the authenticator app (when the user has one), offers the user's passkey (when
    /// <paramref name="passkey"/> is set; its button shows once the script finds WebAuthn), or (<paramref name="recovery"/>)
    /// asks for a recovery code.
    /// </summary>
    public static HostedHtml Challenge(FormContext form, string recoveryUrl, string authenticatorUrl, bool recovery, bool hasTotp = true,
        Mfa.Passkeys.PasskeySignIn? passkey = null) =>
        Document(form.Brand, "Two-step verification", body =>
        {
            body.Append(recovery
                ? "<p>Enter one of the recovery codes you saved when you set up two-step verification. Each code works once.</p>\n"
                : hasTotp
                    ? "<p>Enter the 6-digit code from your authenticator app.</p>\n"
                    : "<p>Use your passkey to continue.</p>\n");
            HostedPageHtml.Errors(body, form.Errors);
            FormStart(body, form);
            if (recovery)
            {
                CodeField(body, "recovery_code", "Recovery code", "off", "text", form.Errors.Count > 0);
                body.Append("<button type=\"submit\">Verify</button>\n");
            }
            else if (hasTotp)
            {
                CodeField(body, "code", "Code", "one-time-code", "numeric", form.Errors.Count > 0);
                body.Append("<button type=\"submit\">Verify</button>\n");
            }

            body.Append("</form>\n");
            if (!recovery && passkey is not null)
            {
                // The script posts the passkey's answer with this page's form token; the step's cookie names the user.
                body.Append("<button type=\"button\" class=\"secondary\" data-passkey=\"sign-in\" data-options=\"").Append(Encode(passkey.OptionsUrl))
                    .Append("\" data-action=\"").Append(Encode(passkey.Action)).Append("\" hidden>Use a passkey</button>\n")
                    .Append("<script src=\"").Append(Encode(passkey.ScriptUrl)).Append("\" defer></script>\n");
            }

            var (href, text) = recovery
                ? (authenticatorUrl, hasTotp ? "Use your authenticator app instead" : "Use your passkey instead")
                : (recoveryUrl, "Use a recovery code");
            body.Append("<p><a href=\"").Append(Encode(href)).Append("\">").Append(Encode(text)).Append("</a></p>\n");
        });

    /// <summary>The enrolment a tenant policy requires: the QR code, the secret as text, and a field for the first code.</summary>
    public static HostedHtml Enrol(FormContext form, string account, string qrSvg, string secret, string factorId) =>
        Document(form.Brand, "Set up two-step verification", body =>
        {
            body.Append("<p class=\"account\">Account: <strong>").Append(Encode(account)).Append("</strong></p>\n");
            body.Append("<p>Your organization requires a second step when you sign in. Scan this QR code with an authenticator app, ")
                .Append("then enter the 6-digit code it shows.</p>\n");
            body.Append("<div class=\"qr\">").Append(qrSvg).Append("</div>\n");
            body.Append("<p>Cannot scan it? Enter this key in the app instead:</p>\n<p class=\"secret\"><strong>")
                .Append(Encode(Grouped(secret))).Append("</strong></p>\n");
            HostedPageHtml.Errors(body, form.Errors);
            FormStart(body, form);
            Hidden(body, "factor_id", factorId);
            CodeField(body, "code", "Code from the app", "one-time-code", "numeric", form.Errors.Count > 0);
            body.Append("<button type=\"submit\">Turn on</button>\n</form>\n");
        });

    /// <summary>The new recovery codes, shown once, and the button that finishes the sign-in.</summary>
    public static HostedHtml RecoveryCodes(FormContext form, IReadOnlyList<string> codes) =>
        Document(form.Brand, "Save your recovery codes", body =>
        {
            body.Append("<p>Two-step verification is on. If you lose your authenticator app, each of these codes signs you in once. ")
                .Append("Save them somewhere safe now: they are not shown again.</p>\n<ol class=\"codes\">\n");
            foreach (var code in codes)
            {
                body.Append("<li>").Append(Encode(code)).Append("</li>\n");
            }

            body.Append("</ol>\n");
            FormStart(body, form);
            body.Append("<button type=\"submit\">Continue</button>\n</form>\n");
        });

    private static void CodeField(StringBuilder body, string name, string label, string autocomplete, string inputMode, bool invalid)
    {
        body.Append("<label for=\"").Append(name).Append("\">").Append(Encode(label)).Append("</label>\n");
        body.Append("<input id=\"").Append(name).Append("\" name=\"").Append(name).Append("\" type=\"text\" inputmode=\"").Append(inputMode)
            .Append("\" autocomplete=\"").Append(autocomplete).Append("\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus");
        if (invalid)
        {
            body.Append(" aria-invalid=\"true\" aria-describedby=\"form-errors\"");
        }

        body.Append(">\n");
    }

    // Base32 in groups of four, as authenticator apps accept it typed with or without spaces.
    private static string Grouped(string secret) =>
        string.Join(' ', Enumerable.Range(0, (secret.Length + 3) / 4).Select(i => secret.Substring(i * 4, Math.Min(4, secret.Length - i * 4))));
}
