using Geralt;

namespace ScaiKey.Api.Security;

/// <summary>
/// Argon2id through libsodium's crypto_pwhash_str: a salted PHC string ($argon2id$v=19$m=...,t=...,p=1$...).
/// Defaults are OWASP's (19 MiB, 2 passes); NeedsRehash lets sign-in upgrade hashes when they change. Verify also
/// accepts the hashes import takes from other systems (ForeignPasswordHashes), which sign-in upgrades the same way.
/// </summary>
internal sealed class PasswordHasher(int iterations = PasswordHasher.DefaultIterations, int memoryBytes = PasswordHasher.DefaultMemoryBytes)
{
    public const int DefaultIterations = 2;
    public const int DefaultMemoryBytes = 19 * 1024 * 1024;

    private string? _dummyHash;

    /// <summary>
    /// A hash of a random password with the current parameters, verified when an account does not exist, so an
    /// unknown email costs the same time as a wrong password.
    /// </summary>
    public string DummyHash => _dummyHash ??= Hash(SecretGenerator.Token(16));

    public string Hash(string password)
    {
        Span<char> buffer = stackalloc char[Argon2id.HashSize];
        var bytes = System.Text.Encoding.UTF8.GetBytes(password);
        try
        {
            Argon2id.ComputeHash(buffer, bytes, iterations, memoryBytes);
        }
        finally
        {
            Array.Clear(bytes);
        }

        var end = buffer.IndexOf('\0');
        return new string(end < 0 ? buffer : buffer[..end]);
    }

    public bool Verify(string hash, string password)
    {
        // Our own hashes (and other one-lane Argon2id strings) go to libsodium; anything else imported from another
        // system (bcrypt, PBKDF2, multi-lane Argon2) to ForeignPasswordHashes, until sign-in re-hashes it.
        if (!hash.StartsWith("$argon2id$", StringComparison.Ordinal) || !ForeignPasswordHashes.IsLibsodiumArgon2id(hash))
        {
            return ForeignPasswordHashes.Verify(hash, password);
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(password);
        try
        {
            return Argon2id.VerifyHash(hash, bytes);
        }
        finally
        {
            Array.Clear(bytes);
        }
    }

    /// <summary>True for every hash not made with the current Argon2id parameters, foreign formats included.</summary>
    public bool NeedsRehash(string hash) =>
        !hash.StartsWith($"$argon2id$v=19$m={memoryBytes / 1024},t={iterations},p=1$", StringComparison.Ordinal)
        || Argon2id.NeedsRehash(hash, iterations, memoryBytes);

    /// <summary>Whether Verify can check this stored hash: ours, or one of the foreign formats import accepts.</summary>
    public static bool IsSupported(string hash) => ForeignPasswordHashes.Recognize(hash) is not null;
}
