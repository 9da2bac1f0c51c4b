using OtpNet;

namespace ScaiKey.Api.Mfa;

/// <summary>
/// RFC 6238 TOTP as authenticator apps implement it (SHA-1, 30-second steps, 6 digits), through Otp.NET. A code is
/// accepted one step either side of now, for clocks that drift; which step matched is returned so that the caller
/// can refuse a second use of it (replay).
/// </summary>
internal static class TotpCodes
{
    public const int Digits = 6;
    public const int StepSeconds = 30;

    // 160 bits, the length RFC 4226 recommends and authenticator apps expect.
    public static byte[] NewSecret() => KeyGeneration.GenerateRandomKey(20);

    public static string Base32(byte[] secret) => Base32Encoding.ToString(secret);

    /// <summary>The otpauth:// URI authenticator apps read from the QR code (Key Uri Format).</summary>
    public static string OtpAuthUri(string issuer, string account, byte[] secret)
    {
        var label = Uri.EscapeDataString(issuer) + ":" + Uri.EscapeDataString(account);
        return $"otpauth://totp/{label}?secret={Base32(secret)}&issuer={Uri.EscapeDataString(issuer)}"
            + $"&algorithm=SHA1&digits={Digits}&period={StepSeconds}";
    }

    /// <summary>The time step <paramref name="code"/> is valid for at <paramref name="now"/> (±1 step), or null.</summary>
    public static long? MatchStep(byte[] secret, string code, DateTime now)
    {
        code = code.Trim().Replace(" ", "", StringComparison.Ordinal);
        if (code.Length != Digits || !code.All(char.IsAsciiDigit))
        {
            return null;
        }

        var totp = new Totp(secret, StepSeconds, OtpHashMode.Sha1, Digits);
        return totp.VerifyTotp(now, code, out var step, new VerificationWindow(previous: 1, future: 1)) ? step : null;
    }

    /// <summary>The code for <paramref name="now"/>: for tests and the bench, which act as the user's authenticator.</summary>
    public static string Compute(byte[] secret, DateTime now) =>
        new Totp(secret, StepSeconds, OtpHashMode.Sha1, Digits).ComputeTotp(now);
}
