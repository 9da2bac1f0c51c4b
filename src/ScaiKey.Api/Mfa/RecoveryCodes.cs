using System.Security.Cryptography;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Mfa;

/// <summary>
/// Single-use recovery codes: ten per set, each ten characters of an unambiguous alphabet (50 bits, so a SHA-256
/// hash is enough at rest: they cannot be guessed offline the way a password can), shown as xxxxx-xxxxx.
/// </summary>
internal static class RecoveryCodes
{
    public const int PerSet = 10;

    // Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static IReadOnlyList<string> NewSet()
    {
        var codes = new List<string>(PerSet);
        for (var i = 0; i < PerSet; i++)
        {
            var chars = RandomNumberGenerator.GetItems<char>(Alphabet, 10);
            codes.Add(new string(chars, 0, 5) + "-" + new string(chars, 5, 5));
        }

        return codes;
    }

    /// <summary>The stored form: case, spaces and dashes do not matter to the user, so not to the hash either.</summary>
    public static string Hash(string code)
    {
        var normalized = new string(code.Where(c => c is not ('-' or ' ')).Select(char.ToUpperInvariant).ToArray());
        return SecretGenerator.Sha256Hex(normalized);
    }
}
