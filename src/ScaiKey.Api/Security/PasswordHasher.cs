using Geralt;

namespace ScaiKey.Api.Security;

/// <summary>
/// Argon2id as a salted PHC string ($argon2id$v=19$m=...,t=...,p=1$...), the same string libsodium's
/// crypto_pwhash_str makes (16-byte salt, 32-byte tag). Computed by Security/Argon2.cs where the CPU has AVX-512,
/// which keeps its memory between hashes, and by libsodium elsewhere. Defaults are OWASP's (19 MiB, 2 passes);
/// NeedsRehash lets sign-in upgrade hashes when they change. Verify also accepts the hashes import takes from
/// other systems (ForeignPasswordHashes), which sign-in upgrades the same way.
/// </summary>
internal sealed class PasswordHasher(int iterations = PasswordHasher.DefaultIterations, int memoryBytes = PasswordHasher.DefaultMemoryBytes)
{
    public const int DefaultIterations = 2;
    public const int DefaultMemoryBytes = 19 * 1024 * 1024;

    private const int SaltBytes = 16;
    private const int TagBytes = 32;

    // The service's own hashes are verified under the caps imported ones are held to, so its parameters must fit them.
    private readonly string _prefix = iterations is >= 1 and <= ForeignPasswordHashes.MaxArgonPasses
        && memoryBytes / 1024 is >= 8 and <= ForeignPasswordHashes.MaxArgonMemoryKiB
        ? $"$argon2id$v=19$m={memoryBytes / 1024},t={iterations},p=1$"
        : throw new InvalidOperationException(
            $"ScaiKey:PasswordHashing: Iterations must be 1-{ForeignPasswordHashes.MaxArgonPasses} and MemoryKiB 8-{ForeignPasswordHashes.MaxArgonMemoryKiB}.");
    private string? _dummyHash;

    /// <summary>
    /// A hash of a random password with the current parameters, verified when an account does not exist, so an
    /// unknown email costs the same time as a wrong password.
    /// </summary>
    public string DummyHash => _dummyHash ??= Hash(SecretGenerator.Token(16));

    public string Hash(string password)
    {
        if (!Argon2.IsAccelerated)
        {
            return HashWithLibsodium(password);
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(password);
        Span<byte> salt = stackalloc byte[SaltBytes];
        Span<byte> tag = stackalloc byte[TagBytes];
        try
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(salt);
            Argon2.Hash(Argon2Type.Id, memoryBytes / 1024, iterations, 1, bytes, salt, tag);
            return $"{_prefix}{Convert.ToBase64String(salt).TrimEnd('=')}${Convert.ToBase64String(tag).TrimEnd('=')}";
        }
        finally
        {
            Array.Clear(bytes);
            tag.Clear();
        }
    }

    public bool Verify(string hash, string password)
    {
        // A hash that can never verify (unknown format, or costs above the caps) still costs a dummy verification:
        // answering at once would tell a timing observer that this email has an account.
        if (ForeignPasswordHashes.Recognize(hash) is null && !ReferenceEquals(hash, DummyHash))
        {
            Verify(DummyHash, password);
            return false;
        }

        // One-lane Argon2id strings (ours and imported ones) go to libsodium where this CPU has no AVX-512 (its own
        // vector code beats our portable path there); every other format, and everything on AVX-512, to
        // ForeignPasswordHashes, whose Argon2 is Security/Argon2.cs.
        if (!Argon2.IsAccelerated && hash.StartsWith("$argon2id$", StringComparison.Ordinal) && ForeignPasswordHashes.IsOneLaneArgon2id(hash))
        {
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

        return ForeignPasswordHashes.Verify(hash, password);
    }

    private string HashWithLibsodium(string password)
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

    /// <summary>True for every hash not made with the current Argon2id parameters, foreign formats included.</summary>
    public bool NeedsRehash(string hash) =>
        !hash.StartsWith(_prefix, StringComparison.Ordinal)
        || Argon2id.NeedsRehash(hash, iterations, memoryBytes);

    /// <summary>Whether Verify can check this stored hash: ours, or one of the foreign formats import accepts.</summary>
    public static bool IsSupported(string hash) => ForeignPasswordHashes.Recognize(hash) is not null;
}
