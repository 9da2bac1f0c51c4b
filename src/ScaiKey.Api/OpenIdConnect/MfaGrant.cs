using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ScaiKey.Api.Applications;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static OpenIddict.Abstractions.OpenIddictConstants;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// Multi-factor sign-in through the token endpoint, in the shape of Auth0's mfa-otp grant: the password grant of a
/// user with a confirmed factor answers 400 <c>mfa_required</c> with an <c>mfa_token</c> instead of tokens, and the
/// client finishes with <see cref="GrantType"/>, the mfa_token and <c>otp</c> or <c>recovery_code</c>. The
/// mfa_token is a sealed <see cref="MfaChallenge"/> (PASSWORD_GRANT, <see cref="MfaChallenges.CreateSealed"/>) bound
/// to the user and the client, good for five minutes, one success and <see cref="MfaChallenges.MaxFailedAttempts"/>
/// wrong codes.
/// </summary>
internal static class MfaGrant
{
    public const string GrantType = "urn:scaikey:params:oauth:grant-type:mfa-otp";
    public const string MfaTokenParameter = "mfa_token";
    public const string OtpParameter = "otp";
    public const string RecoveryCodeParameter = "recovery_code";
    public const string MfaRequiredError = "mfa_required";
    public const string MfaEnrollmentRequiredError = "mfa_enrollment_required";

    /// <summary>
    /// After a right password: the mfa_required answer for a user with a confirmed factor, mfa_enrollment_required
    /// when the tenant requires MFA and the user has none, or null when the password alone signs the user in.
    /// </summary>
    public static async Task<IResult?> SecondFactorNeededAsync(
        HttpContext http, OpenIddictRequest request, TenantContext tenant, SignInResult result, CancellationToken ct)
    {
        if (result.HasSecondFactor)
        {
            var challenges = http.RequestServices.GetRequiredService<MfaChallenges>();
            // Sealed, not stored: a machine client's MFA sign-in writes nothing until a wrong code or its use.
            var token = challenges.CreateSealed(tenant.Id, result.UserId!, request.ClientId,
                new PendingSignInData(UpgradedHash: result.UpgradedHash, Scopes: [.. request.GetScopes()]));
            return Results.Forbid(
                new AuthenticationProperties(
                    new Dictionary<string, string?>
                    {
                        [OpenIddictServerAspNetCoreConstants.Properties.Error] = MfaRequiredError,
                        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] =
                            $"A second factor is required: send grant_type={GrantType} with this mfa_token and an otp or recovery_code.",
                    },
                    new Dictionary<string, object?> { [MfaTokenParameter] = token }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        return tenant.Settings.MfaPolicy.Required
            ? TokenEndpoints.Refuse(MfaEnrollmentRequiredError,
                "This organization requires multi-factor authentication: enrol a second factor on the hosted sign-in page first.")
            : null;
    }

    /// <summary>
    /// The mfa-otp grant. OpenIddict has authenticated the client and checked that it may use this grant; the
    /// mfa_token must have been issued to that same client.
    /// </summary>
    public static async Task<IResult> ExchangeAsync(HttpContext http, OpenIddictRequest request, ScaiKeyDbContext db, SignInService signIn, CancellationToken ct)
    {
        var services = http.RequestServices;
        var challenges = services.GetRequiredService<MfaChallenges>();
        var pending = await challenges.FindAsync(MfaChallengePurposes.PasswordGrant, (string?)request[MfaTokenParameter], ct);
        if (pending?.UserId is null || pending.ClientId != request.ClientId)
        {
            return TokenEndpoints.Refuse(OpenIddictConstants.Errors.InvalidGrant, "The mfa_token is not valid: it may have expired or been used. Sign in with the password again.");
        }

        var otp = (string?)request[OtpParameter];
        var recoveryCode = (string?)request[RecoveryCodeParameter];
        if (string.IsNullOrWhiteSpace(otp) == string.IsNullOrWhiteSpace(recoveryCode))
        {
            return TokenEndpoints.Refuse(OpenIddictConstants.Errors.InvalidRequest, "Send exactly one of otp and recovery_code.");
        }

        var tenant = await TenantLookup.FindCachedAsync(db, services.GetRequiredService<IMemoryCache>(), pending.TenantId, ct);
        if (tenant is null)
        {
            return TokenEndpoints.Refuse(OpenIddictConstants.Errors.InvalidGrant, "The mfa_token is not valid.");
        }

        // The TOTP step is claimed by the session's transaction below, with the mfa_token's use: one write for all three.
        var check = await services.GetRequiredService<SecondFactorSignIn>().CheckAsync(tenant, pending, otp, recoveryCode, ct, deferTotpClaim: true);
        switch (check.Outcome)
        {
            case SecondFactorStep.Limited:
                return Errors.Problems.TooManyRequests(check.RetryAfter);
            case SecondFactorStep.Wrong:
                return TokenEndpoints.Refuse(OpenIddictConstants.Errors.InvalidGrant, "The code is not valid.");
            case SecondFactorStep.Ended:
                return TokenEndpoints.Refuse(OpenIddictConstants.Errors.InvalidGrant, "The code is not valid, and this mfa_token can no longer be used. Sign in with the password again.");
        }

        var data = PendingSignInData.Read(pending);
        var result = new SignInResult(SignInOutcome.Success, pending.UserId) { TenantId = tenant.Id, UpgradedHash = data.UpgradedHash };
        var application = await ApplicationSignIn.FindAsync(db, services.GetRequiredService<IMemoryCache>(), request.ClientId, ct);
        if (!await ApplicationSignIn.AdmitsAsync(db, services.GetRequiredService<UserReads>(), application, pending.UserId, ct))
        {
            return TokenEndpoints.Refuse(OpenIddictConstants.Errors.InvalidGrant, "The user is not assigned to this application.");
        }

        // The mfa_token is spent in the session's transaction: of two requests racing with one mfa_token (and
        // different codes), or with one code, one gets a session.
        if (await signIn.StartSessionAsync(result, http, request.ClientId!, ct, check.Amr!, pending.Id, MfaChallenges.SpendOf(pending), check.Claim)
            is not { GrantId: { } grantId } started)
        {
            return TokenEndpoints.Refuse(OpenIddictConstants.Errors.InvalidGrant,
                "The mfa_token has already been used, or the user can no longer sign in.");
        }

        // The user as the check read it: the session's transaction has just re-checked that it is ACTIVE.
        var principal = await http.RequestServices.GetRequiredService<TokenPrincipals>().BuildPrincipalAsync(tenant.Id, check.User!, started.Authentication, started.SessionId, grantId, 0,
            request.ClientId!, data.Scopes ?? [], ct);
        return Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Gives every OpenIddict client allowed the password grant the mfa-otp grant too, for registrations written
    /// before it existed (new and updated ones get it from <see cref="ApplicationRules.Apply"/>). Runs at start; a
    /// no-op once done.
    /// </summary>
    public static async Task AllowForPasswordClientsAsync(ScaiKeyDbContext db, IOpenIddictApplicationManager applications, CancellationToken ct)
    {
        var password = "\"" + Permissions.GrantTypes.Password + "\"";
        var clientIds = await db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
            .Where(a => a.Permissions != null && a.Permissions.Contains(password) && !a.Permissions.Contains(GrantType))
            .Select(a => a.ClientId)
            .ToListAsync(ct);
        foreach (var clientId in clientIds)
        {
            if (clientId is null || await applications.FindByClientIdAsync(clientId, ct) is not { } client)
            {
                continue;
            }

            var descriptor = new OpenIddictApplicationDescriptor();
            await applications.PopulateAsync(descriptor, client, ct);
            descriptor.Permissions.Add(Permissions.Prefixes.GrantType + GrantType);
            await applications.UpdateAsync(client, descriptor, ct);
        }
    }
}
