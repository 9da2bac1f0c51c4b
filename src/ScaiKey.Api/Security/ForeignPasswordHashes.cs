using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ScaiKey.Api.Security;

internal enum ForeignHashKind
{
    Argon2id,
    Argon2i,
    Bcrypt,
    Pbkdf2Sha256,
    Pbkdf2Sha512,
}

/// <summary>
/// Password hashes made by other systems, accepted on import and kept only until the user's next successful
/// sign-in re-hashes the password with our Argon2id (NeedsRehash is true for all of them). Accepted formats:
/// <list type="bullet">
/// <item>PHC Argon2id / Argon2i, version 19: <c>$argon2id$v=19$m=&lt;KiB&gt;,t=&lt;passes&gt;,p=&lt;lanes&gt;$&lt;b64 salt&gt;$&lt;b64 hash&gt;</c>.
/// Computed by Security/Argon2.cs (any number of lanes).</item>
/// <item>bcrypt: <c>$2a$</c>, <c>$2b$</c>, <c>$2y$</c> with cost 4-14 (BCrypt.Net-Next).</item>
/// <item>PBKDF2-SHA256 / SHA512 in three spellings: PHC-like <c>$pbkdf2-sha256$i=&lt;iter&gt;,l=&lt;len&gt;$&lt;b64 salt&gt;$&lt;b64 hash&gt;</c>
/// (<c>l</c> optional), passlib <c>$pbkdf2-sha256$&lt;iter&gt;$&lt;ab64 salt&gt;$&lt;ab64 hash&gt;</c>, and Django
/// <c>pbkdf2_sha256$&lt;iter&gt;$&lt;salt text&gt;$&lt;b64 hash&gt;</c>; <c>sha512</c> in place of <c>sha256</c> likewise.</item>
/// </list>
/// Costs are capped (Argon2 m ≤ 64 MiB, the largest buffer <see cref="Argon2Memory"/> keeps, t ≤ 10, p ≤ 8;
/// bcrypt cost ≤ 14; PBKDF2 ≤ 2,000,000 iterations), each about a second of one core at most, so an imported
/// hash cannot turn one sign-in attempt into a denial of service. Import refuses a hash above them with its own
/// row error (<see cref="CostRefusal"/>); one already stored never verifies (the user needs a password reset).
/// </summary>
internal static partial class ForeignPasswordHashes
{
    public const int MaxArgonMemoryKiB = 64 * 1024;
    public const int MaxArgonPasses = 10;
    public const int MaxArgonLanes = 8;
    public const int MaxBcryptCost = 14;
    public const int MaxPbkdf2Iterations = 2_000_000;

    private sealed record Argon2Params(bool IsArgon2id, int MemoryKiB, int Passes, int Lanes, byte[] Salt, byte[] Hash);

    private sealed record Pbkdf2Params(HashAlgorithmName Algorithm, int Iterations, byte[] Salt, byte[] Hash);

    /// <summary>What kind of hash this is, or null when it is none we can verify (including out-of-range costs).</summary>
    public static ForeignHashKind? Recognize(string hash)
    {
        if (ParseArgon2(hash) is { } argon)
        {
            return WithinCaps(argon) ? argon.IsArgon2id ? ForeignHashKind.Argon2id : ForeignHashKind.Argon2i : null;
        }

        if (BcryptCost(hash) is { } cost)
        {
            return cost <= MaxBcryptCost ? ForeignHashKind.Bcrypt : null;
        }

        if (ParsePbkdf2(hash) is { } pbkdf2)
        {
            return pbkdf2.Iterations <= MaxPbkdf2Iterations
                ? pbkdf2.Algorithm == HashAlgorithmName.SHA512 ? ForeignHashKind.Pbkdf2Sha512 : ForeignHashKind.Pbkdf2Sha256
                : null;
        }

        return null;
    }

    /// <summary>
    /// Why a well-formed hash is refused for its cost (the row error import reports), or null when it is within the
    /// caps or not a format we know. The message names the caps, never the hash.
    /// </summary>
    public static string? CostRefusal(string hash)
    {
        if (ParseArgon2(hash) is { } argon && !WithinCaps(argon))
        {
            return $"password hash cost above the cap: Argon2 allows m ≤ {MaxArgonMemoryKiB} KiB, t ≤ {MaxArgonPasses}, p ≤ {MaxArgonLanes}; "
                + $"this hash has m={argon.MemoryKiB}, t={argon.Passes}, p={argon.Lanes}";
        }

        if (BcryptCost(hash) is > MaxBcryptCost and var cost)
        {
            return $"password hash cost above the cap: bcrypt allows cost ≤ {MaxBcryptCost}; this hash has cost {cost}";
        }

        if (ParsePbkdf2(hash) is { Iterations: > MaxPbkdf2Iterations } pbkdf2)
        {
            return $"password hash cost above the cap: PBKDF2 allows ≤ {MaxPbkdf2Iterations} iterations; this hash has {pbkdf2.Iterations}";
        }

        return null;
    }

    /// <summary>Argon2 parameters libsodium can verify itself: Argon2id with exactly one lane, within the caps.</summary>
    public static bool IsOneLaneArgon2id(string hash) => ParseArgon2(hash) is { IsArgon2id: true, Lanes: 1 } argon && WithinCaps(argon);

    public static bool Verify(string hash, string password)
    {
        var bytes = Encoding.UTF8.GetBytes(password);
        try
        {
            // A hash above the caps never verifies: it would cost more than a sign-in attempt may. Argon2 first, parsed
            // once here: it is what every sign-in verifies, and its PHC string is the costliest to parse.
            if (ParseArgon2(hash) is { } argon)
            {
                return WithinCaps(argon) && VerifyArgon2(argon, bytes);
            }

            if (Recognize(hash) is null)
            {
                return false;
            }

            if (BcryptCost(hash) is not null)
            {
                // bcrypt.Verify works on the string (it truncates at 72 bytes as every bcrypt does).
                return BCrypt.Net.BCrypt.Verify(password, hash);
            }

            if (ParsePbkdf2(hash) is { } pbkdf2)
            {
                var derived = Rfc2898DeriveBytes.Pbkdf2(bytes, pbkdf2.Salt, pbkdf2.Iterations, pbkdf2.Algorithm, pbkdf2.Hash.Length);
                return CryptographicOperations.FixedTimeEquals(derived, pbkdf2.Hash);
            }

            return false;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or BCrypt.Net.SaltParseException)
        {
            return false;
        }
        finally
        {
            Array.Clear(bytes);
        }
    }

    private static bool VerifyArgon2(Argon2Params p, byte[] password)
    {
        var derived = new byte[p.Hash.Length];
        Argon2.Hash(p.IsArgon2id ? Argon2Type.Id : Argon2Type.I, p.MemoryKiB, p.Passes, p.Lanes, password, p.Salt, derived);
        return CryptographicOperations.FixedTimeEquals(derived, p.Hash);
    }

    private static Argon2Params? ParseArgon2(string hash)
    {
        var m = Argon2Phc().Match(hash);
        if (!m.Success)
        {
            return null;
        }

        if (!TryInt(m.Groups["m"].Value, out var memory) || !TryInt(m.Groups["t"].Value, out var passes) || !TryInt(m.Groups["p"].Value, out var lanes)
            || passes < 1 || lanes is < 1 or > 0xFFFFFF || memory < 8 * lanes)
        {
            return null;
        }

        var salt = FromBase64(m.Groups["salt"].Value, '+');
        var digest = FromBase64(m.Groups["hash"].Value, '+');
        if (salt is not { Length: >= 8 } || digest is not { Length: >= 4 and <= 1024 })
        {
            return null;
        }

        return new Argon2Params(m.Groups["kind"].Value == "argon2id", memory, passes, lanes, salt, digest);
    }

    private static Pbkdf2Params? ParsePbkdf2(string hash)
    {
        HashAlgorithmName algorithm;
        int iterations;
        byte[]? salt;
        byte[]? digest;
        if (Pbkdf2Phc().Match(hash) is { Success: true } phc)
        {
            algorithm = phc.Groups["alg"].Value == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
            if (!TryInt(phc.Groups["i"].Value, out iterations))
            {
                return null;
            }

            salt = FromBase64(phc.Groups["salt"].Value, '+');
            digest = FromBase64(phc.Groups["hash"].Value, '+');
            if (phc.Groups["l"].Success && (!TryInt(phc.Groups["l"].Value, out var length) || digest?.Length != length))
            {
                return null;
            }
        }
        else if (Pbkdf2Passlib().Match(hash) is { Success: true } passlib)
        {
            algorithm = passlib.Groups["alg"].Value == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
            if (!TryInt(passlib.Groups["i"].Value, out iterations))
            {
                return null;
            }

            // passlib's "adapted base64": '.' stands for '+', no padding.
            salt = FromBase64(passlib.Groups["salt"].Value, '.');
            digest = FromBase64(passlib.Groups["hash"].Value, '.');
        }
        else if (Pbkdf2Django().Match(hash) is { Success: true } django)
        {
            algorithm = django.Groups["alg"].Value == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
            if (!TryInt(django.Groups["i"].Value, out iterations))
            {
                return null;
            }

            // Django uses the salt text itself (its characters) as the salt bytes.
            salt = Encoding.UTF8.GetBytes(django.Groups["salt"].Value);
            digest = FromBase64(django.Groups["hash"].Value, '+');
        }
        else
        {
            return null;
        }

        if (iterations < 1 || salt is not { Length: > 0 } || digest is not { Length: >= 16 and <= 1024 })
        {
            return null;
        }

        return new Pbkdf2Params(algorithm, iterations, salt, digest);
    }

    private static bool WithinCaps(Argon2Params p) =>
        p.Passes <= MaxArgonPasses && p.Lanes <= MaxArgonLanes && p.MemoryKiB <= MaxArgonMemoryKiB;

    /// <summary>The cost of a bcrypt string of the accepted variants, or null when it is not one.</summary>
    private static int? BcryptCost(string hash) =>
        Bcrypt().Match(hash) is { Success: true } m ? int.Parse(m.Groups["cost"].Value, CultureInfo.InvariantCulture) : null;

    private static bool TryInt(string value, out int result) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result);

    /// <summary>Standard base64, with or without padding; <paramref name="plus"/> is what stands for '+'.</summary>
    private static byte[]? FromBase64(string value, char plus)
    {
        var text = plus == '+' ? value : value.Replace(plus, '+');
        text = text.TrimEnd('=');
        if (text.Length % 4 == 1)
        {
            return null;
        }

        text = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^\$(?<kind>argon2id|argon2i)\$v=19\$m=(?<m>[0-9]{1,9}),t=(?<t>[0-9]{1,9}),p=(?<p>[0-9]{1,9})\$(?<salt>[A-Za-z0-9+/]+={0,2})\$(?<hash>[A-Za-z0-9+/]+={0,2})$")]
    private static partial Regex Argon2Phc();

    [GeneratedRegex(@"^\$2[aby]\$(?<cost>0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")]
    private static partial Regex Bcrypt();

    [GeneratedRegex(@"^\$pbkdf2-(?<alg>sha256|sha512)\$i=(?<i>[0-9]{1,9})(,l=(?<l>[0-9]{1,4}))?\$(?<salt>[A-Za-z0-9+/]+={0,2})\$(?<hash>[A-Za-z0-9+/]+={0,2})$")]
    private static partial Regex Pbkdf2Phc();

    [GeneratedRegex(@"^\$pbkdf2-(?<alg>sha256|sha512)\$(?<i>[0-9]{1,9})\$(?<salt>[A-Za-z0-9./]+)\$(?<hash>[A-Za-z0-9./]+)$")]
    private static partial Regex Pbkdf2Passlib();

    [GeneratedRegex(@"^pbkdf2_(?<alg>sha256|sha512)\$(?<i>[0-9]{1,9})\$(?<salt>[^$\s]{1,128})\$(?<hash>[A-Za-z0-9+/]+={0,2})$")]
    private static partial Regex Pbkdf2Django();
}
