using Microsoft.AspNetCore.Mvc;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Mfa.Passkeys;

/// <summary>
/// A passkey as the second factor after the password, on the hosted second-factor step (<see cref="SecondFactorPages"/>):
/// the ceremony is bound to the step's user (only their passkeys are offered and accepted), and a right answer
/// completes the step like a right TOTP code, with amr "pwd hwk mfa".
/// </summary>
internal static class PasskeySecondFactor
{
    public const string Amr = "pwd hwk mfa";
    private const string OptionsPage = "mfa/passkey-options";
    private const string AnswerPage = "mfa/passkey";

    public static void MapPasskeySecondFactor(this RouteGroupBuilder pages)
    {
        pages.MapPost("/" + OptionsPage, OptionsAsync);
        pages.MapPost("/" + AnswerPage, AnswerAsync);
    }

    /// <summary>
    /// The step page's passkey button (for a user who has a passkey), or null when passkeys are off. Lets the
    /// response load the script.
    /// </summary>
    public static PasskeySignIn? Offer(HttpContext http, TenantContext tenant)
    {
        if (!http.RequestServices.GetRequiredService<PasskeyRelyingParty>().Enabled)
        {
            return null;
        }

        PasskeyEndpoints.AllowScript(http.Response);
        return new PasskeySignIn(
            HostedPages.PageUrl(http, tenant.Slug, OptionsPage, returnUrl: null),
            HostedPages.PageUrl(http, tenant.Slug, AnswerPage, returnUrl: null),
            http.Request.PathBase + PasskeyEndpoints.ScriptPath);
    }

    private static async Task<IResult> OptionsAsync(HttpContext http, [FromServices] FormProtection forms, [FromServices] PasskeyService passkeys, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await PasskeyEndpoints.CheckedFormAsync(http, forms, ct) is { } refused)
        {
            return refused;
        }

        // Only the user who gave the password, and only their passkeys.
        if (await HostedSecondFactor.FindPendingAsync(http, tenant, MfaChallengePurposes.HostedSignIn, ct) is not { } pending
            || await passkeys.BeginAssertionAsync(tenant, pending.UserId, ct) is not { } ceremony)
        {
            return Problems.Forbidden("Sign in with your password first.");
        }

        return PasskeyEndpoints.Options(ceremony);
    }

    private static async Task<IResult> AnswerAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] PasskeyService passkeys, [FromServices] MfaChallenges challenges, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        if (await HostedSecondFactor.FindPendingAsync(http, tenant, MfaChallengePurposes.HostedSignIn, ct) is not { } pending)
        {
            return HostedSecondFactor.StartOver(http, tenant, returnUrl: null);
        }

        if (!forms.IsValid(http, form))
        {
            return await SecondFactorPages.ChallengeFormAsync(http, db, forms, tenant, pending, recovery: false,
                ["This form has expired. Please try again."], StatusCodes.Status400BadRequest, ct);
        }

        var result = await passkeys.CompleteAssertionAsync(
            tenant, form["challenge_token"].ToString(), form["credential"].ToString(), pending.UserId, ct);
        if (result.Succeeded)
        {
            return await HostedSecondFactor.CompleteAsync(http, pending, Amr, ct);
        }

        // A refused answer counts on the step like a wrong code: a few, and the password is needed again.
        if (!await challenges.CountFailureAsync(pending, ct))
        {
            return HostedSecondFactor.StartOver(http, tenant, PendingSignInData.Read(pending).ReturnUrl);
        }

        return await SecondFactorPages.ChallengeFormAsync(http, db, forms, tenant, pending, recovery: false,
            ["That passkey could not be used. Try again, or use another way to verify."], StatusCodes.Status200OK, ct);
    }
}
