using ScaiKey.Api.Mfa;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The building blocks every MFA flow shares: RFC 6238 codes (30 s, 6 digits, one step of drift either way, the step
/// reported so that a second use can be refused), recovery codes, and QR codes that never fail a page.
/// </summary>
public sealed class TotpAndQrCodeTests
{
    private static readonly DateTime Now = new(2026, 12, 4, 12, 0, 15, DateTimeKind.Utc);

    [Fact]
    public void A_code_is_accepted_one_step_either_side_and_not_two()
    {
        var secret = TotpCodes.NewSecret();
        var step = TotpCodes.MatchStep(secret, TotpCodes.Compute(secret, Now), Now);
        Assert.Equal(new DateTimeOffset(Now).ToUnixTimeSeconds() / 30, step);
        Assert.Equal(step - 1, TotpCodes.MatchStep(secret, TotpCodes.Compute(secret, Now.AddSeconds(-30)), Now));
        Assert.Equal(step + 1, TotpCodes.MatchStep(secret, TotpCodes.Compute(secret, Now.AddSeconds(30)), Now));
        Assert.Null(TotpCodes.MatchStep(secret, TotpCodes.Compute(secret, Now.AddSeconds(-60)), Now));
        Assert.Null(TotpCodes.MatchStep(secret, TotpCodes.Compute(secret, Now.AddSeconds(60)), Now));

        // Not six digits, or another secret's code: nothing.
        Assert.Null(TotpCodes.MatchStep(secret, "12345", Now));
        Assert.Null(TotpCodes.MatchStep(secret, "12345a", Now));
        Assert.Null(TotpCodes.MatchStep(TotpCodes.NewSecret(), TotpCodes.Compute(secret, Now), Now));
    }

    [Fact]
    public void The_otpauth_uri_names_the_issuer_the_account_and_the_parameters_apps_expect()
    {
        var secret = TotpCodes.NewSecret();
        var uri = TotpCodes.OtpAuthUri("Acme Corp", "ada@example.com", secret);
        Assert.Equal($"otpauth://totp/Acme%20Corp:ada%40example.com?secret={TotpCodes.Base32(secret)}&issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30", uri);
        Assert.Equal(32, TotpCodes.Base32(secret).TrimEnd('=').Length);
    }

    [Fact]
    public void Recovery_codes_are_ten_distinct_codes_whose_hash_ignores_case_and_dashes()
    {
        var codes = RecoveryCodes.NewSet();
        Assert.Equal(10, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$", c));
        Assert.Equal(RecoveryCodes.Hash(codes[0]), RecoveryCodes.Hash(codes[0].ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal)));
        Assert.NotEqual(RecoveryCodes.Hash(codes[0]), RecoveryCodes.Hash(codes[1]));
    }

    [Fact]
    public void A_qr_code_is_inline_svg_and_a_text_too_long_for_one_is_a_note_not_an_error()
    {
        var svg = QrCodes.Svg(TotpCodes.OtpAuthUri("Acme", "ada@example.com", TotpCodes.NewSecret()));
        Assert.StartsWith("<svg role=\"img\" aria-label=", svg, StringComparison.Ordinal);

        // A text beyond any QR code's capacity (non-ASCII names are percent-encoded, and the issuer is in the URI twice).
        var note = QrCodes.Svg(TotpCodes.OtpAuthUri(new string('ü', 400), "ada@example.com", TotpCodes.NewSecret()));
        Assert.DoesNotContain("<svg", note, StringComparison.Ordinal);
        Assert.Contains("enter the key below", note, StringComparison.Ordinal);
    }
}
