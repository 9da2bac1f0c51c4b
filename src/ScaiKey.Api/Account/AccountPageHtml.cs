using System.Globalization;
using System.Text;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Users;
using static ScaiKey.Api.SignIn.HostedPageHtml;

namespace ScaiKey.Api.Account;

/// <summary>What the account page shows; <see cref="Base"/> is /t/{slug}/account (with any path base).</summary>
internal sealed record AccountView(
    TenantContext Tenant, string Base, string Email, string FormToken, bool RecentSignIn, string SignInAgainUrl,
    IReadOnlyList<MfaFactorResponse> Factors, IReadOnlyList<AccountSessionResponse> Sessions, string? Notice, IReadOnlyList<string> Errors,
    string PasswordHint);

/// <summary>
/// The hosted account page and its two one-time views (a TOTP enrolment, a set of recovery codes): server-rendered
/// like the sign-in pages (<see cref="HostedPageHtml"/>), no script; every action is a small form of its own.
/// </summary>
internal static class AccountPageHtml
{
    private const string ExtraStyle = """
        main { max-width: 40rem; }
        h2 { margin: 2rem 0 0.5rem; font-size: 1.2rem; }
        .item { margin: 0.75rem 0; padding: 0.75rem; border: 1px solid GrayText; border-radius: 0.25rem; }
        .item p { margin: 0.15rem 0; }
        .item form button, form.inline button { width: auto; margin-top: 0.5rem; padding: 0.4rem 0.9rem; }
        input[type=text] { box-sizing: border-box; width: 100%; padding: 0.6rem; font-size: 1rem; border: 1px solid CanvasText; border-radius: 0.25rem; background: Field; color: FieldText; }
        .secret, .codes { font-family: ui-monospace, monospace; font-size: 1.1rem; overflow-wrap: anywhere; }
        .qr svg { width: 12rem; height: 12rem; background: #fff; }
        .notice { padding: 0.75rem 1rem; border: 2px solid #057a55; border-radius: 0.25rem; }
        """;

    public static HostedHtml Page(AccountView view) => Document(view.Tenant, "Your account", body =>
    {
        body.Append("<p class=\"account\">Signed in as <strong>").Append(Encode(view.Email)).Append("</strong></p>\n");
        if (view.Notice is not null)
        {
            body.Append("<p class=\"notice\" role=\"status\">").Append(Encode(view.Notice)).Append("</p>\n");
        }

        HostedPageHtml.Errors(body, view.Errors);

        body.Append("<h2 id=\"password\">Password</h2>\n");
        if (view.RecentSignIn)
        {
            FormStart(body, Form(view, "password"));
            body.Append("<input type=\"hidden\" name=\"username\" autocomplete=\"username\" value=\"").Append(Encode(view.Email)).Append("\">\n");
            Field(body, "current_password", "Current password", "password", "current-password", null, false, hint: null);
            Field(body, "new_password", "New password", "password", "new-password", null, false, view.PasswordHint);
            Field(body, "confirm_password", "Confirm new password", "password", "new-password", null, false, hint: null);
            body.Append("<button type=\"submit\">Change password</button>\n</form>\n");
        }
        else
        {
            SignInAgain(body, view, "To change your password");
        }

        body.Append("<h2 id=\"factors\">Two-step verification</h2>\n");
        if (view.Factors.Count == 0)
        {
            body.Append("<p>No second factor is set up.</p>\n");
        }

        foreach (var factor in view.Factors)
        {
            body.Append("<div class=\"item\">\n<p><strong>").Append(Encode(FactorLabel(factor))).Append("</strong></p>\n");
            body.Append("<p>Added ").Append(Date(factor.CreatedAt));
            body.Append(factor.LastUsedAt is { } used ? ", last used " + Date(used) : ", not used yet").Append("</p>\n");
            if (view.RecentSignIn)
            {
                FormStart(body, Form(view, "factors/remove"));
                Hidden(body, "factor_id", factor.Id);
                body.Append("<button type=\"submit\" class=\"secondary\">Remove ").Append(Encode(FactorLabel(factor))).Append("</button>\n</form>\n");
            }

            body.Append("</div>\n");
        }

        if (!view.RecentSignIn && view.Factors.Count > 0)
        {
            SignInAgain(body, view, "To remove a factor");
        }

        FormStart(body, Form(view, "totp"));
        body.Append("<label for=\"factor_name\">Name for a new authenticator app (optional)</label>\n")
            .Append("<input id=\"factor_name\" name=\"name\" type=\"text\" maxlength=\"").Append(AccountInput.MaxFactorName).Append("\" autocomplete=\"off\">\n")
            .Append("<button type=\"submit\">Set up an authenticator app</button>\n</form>\n");
        body.Append("<p><a href=\"").Append(Encode(view.Base + "/passkeys")).Append("\">Add a passkey</a></p>\n");

        if (view.Factors.Count > 0)
        {
            body.Append("<h2 id=\"recovery\">Recovery codes</h2>\n")
                .Append("<p class=\"hint\">New codes replace the old ones: every earlier code stops working.</p>\n");
            FormStart(body, Form(view, "recovery-codes"));
            body.Append("<button type=\"submit\" class=\"secondary\">Get new recovery codes</button>\n</form>\n");
        }

        body.Append("<h2 id=\"sessions\">Where you are signed in</h2>\n");
        foreach (var session in view.Sessions)
        {
            body.Append("<div class=\"item\">\n<p><strong>").Append(Encode(session.UserAgent ?? "Unknown browser or app")).Append("</strong>")
                .Append(session.Current ? " (this browser)" : string.Empty).Append("</p>\n");
            body.Append("<p>From ").Append(Encode(session.IpAddress ?? "an unknown address")).Append(", signed in ").Append(Date(session.CreatedAt))
                .Append(", last active ").Append(Date(session.LastSeenAt)).Append("</p>\n");
            FormStart(body, Form(view, "sessions/end"));
            Hidden(body, "session_id", session.Id);
            body.Append("<button type=\"submit\" class=\"secondary\">").Append(session.Current ? "Sign out here" : "End this session").Append("</button>\n</form>\n</div>\n");
        }
    }, ExtraStyle);

    /// <summary>The enrolment step: QR code and secret (shown once), and the field for the first code.</summary>
    public static HostedHtml Enrolment(FormContext form, string? secret, string? otpAuthUri, string factorId, string backUrl) =>
        Document(form.Brand, "Set up an authenticator app", body =>
        {
            if (secret is not null && otpAuthUri is not null)
            {
                body.Append("<p>Scan this QR code with your authenticator app, or type in the key below.</p>\n");
                body.Append("<div class=\"qr\">").Append(Mfa.QrCodes.Svg(otpAuthUri)).Append("</div>\n");
                body.Append("<p>Key: <span class=\"secret\">").Append(Encode(Grouped(secret))).Append("</span></p>\n");
            }

            HostedPageHtml.Errors(body, form.Errors);
            FormStart(body, form);
            Hidden(body, "factor_id", factorId);
            Field(body, "code", "Code from the app", "text", "one-time-code", null, form.Errors.Count > 0,
                $"The {Mfa.TotpCodes.Digits}-digit code the app shows now.");
            body.Append("<button type=\"submit\">Confirm</button>\n</form>\n");
            body.Append("<p><a href=\"").Append(Encode(backUrl)).Append("\">Cancel and go back to your account</a></p>\n");
        }, ExtraStyle);

    /// <summary>A new set of recovery codes, shown this once.</summary>
    public static HostedHtml RecoveryCodes(TenantContext tenant, IReadOnlyList<string> codes, string backUrl) =>
        Document(tenant, "Your recovery codes", body =>
        {
            body.Append("<p role=\"status\">Keep these codes somewhere safe. Each one works once, in place of a code from your app. ")
                .Append("They are shown only now; any earlier codes no longer work.</p>\n<ol class=\"codes\">\n");
            foreach (var code in codes)
            {
                body.Append("<li>").Append(Encode(code)).Append("</li>\n");
            }

            body.Append("</ol>\n<p><a href=\"").Append(Encode(backUrl)).Append("\">Back to your account</a></p>\n");
        }, ExtraStyle);

    private static FormContext Form(AccountView view, string action) => new(HostedBrand.Of(view.Tenant), view.Base + "/" + action, view.FormToken, []);

    private static void SignInAgain(StringBuilder body, AccountView view, string purpose) =>
        body.Append("<p>").Append(Encode(purpose)).Append(", sign in again first: it has been more than ")
            .Append((int)AccountService.RecentSignIn.TotalMinutes).Append(" minutes.</p>\n<p><a href=\"")
            .Append(Encode(view.SignInAgainUrl)).Append("\">Sign in again</a></p>\n");

    private static string FactorLabel(MfaFactorResponse factor)
    {
        var kind = factor.Type == Data.Entities.MfaFactorTypes.Totp ? "Authenticator app" : "Passkey";
        return factor.Name is { Length: > 0 } name ? $"{kind}: {name}" : kind;
    }

    private static string Date(DateTime value) => Encode(value.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));

    // Groups of four, as authenticator apps show keys; the spaces are ignored when typed in.
    private static string Grouped(string secret) =>
        string.Join(' ', Enumerable.Range(0, (secret.Length + 3) / 4).Select(i => secret.Substring(i * 4, Math.Min(4, secret.Length - (i * 4)))));
}
