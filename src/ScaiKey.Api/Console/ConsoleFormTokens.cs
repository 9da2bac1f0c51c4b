using ScaiKey.Api.Http;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The console's form tokens: the hosted pages' double-submit protection (<see cref="FormProtection"/>), but under a
/// cookie and key of the console's own, and bound to the console session (its subject and the random id it got at
/// sign-in). A token therefore works only in the session it was shown in: not in another admin's session, not in a
/// later session of the same admin, and a hosted page's form token (other key, no session) is never a console token.
/// </summary>
internal sealed class ConsoleFormTokens(KeyRing keyRing, PublicOrigin origin)
{
    public const string CookieName = "scaikey_console_form";
    public const string FieldName = FormProtection.FieldName;

    private const string CookiePath = "/console/";

    private readonly FormProtection _forms = new(keyRing, origin, CookieName, "scaikey:console-form-token");

    /// <summary>The token for the forms of a page shown in the session <paramref name="binding"/> names.</summary>
    public string Issue(HttpContext http, string binding) => _forms.IssueToken(http, CookiePath, binding);

    /// <summary>Whether the posted form carries this browser's token for the current console session (none: never).</summary>
    public async Task<bool> IsValidAsync(HttpContext http, IFormCollection? form) =>
        form is not null && await ConsoleSession.FormBindingAsync(http) is { } binding && _forms.IsValid(http, form, binding);
}
