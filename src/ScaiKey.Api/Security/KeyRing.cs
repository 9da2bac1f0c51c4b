using System.Security.Cryptography;
using System.Text;

namespace ScaiKey.Api.Security;

/// <summary>
/// Seals secrets kept in the database (signing keys, MFA secrets) with AES-256-GCM under a key-encryption key
/// that lives outside the database: ScaiKey:KeyEncryptionKey (base64, 32 bytes), or a key file under the data
/// folder that is created on first start. Every instance sharing a database must be given the same key.
/// </summary>
internal sealed class KeyRing
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public KeyRing(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new InvalidOperationException("ScaiKey:KeyEncryptionKey must be 32 bytes, base64-encoded.");
        }

        _key = key;
    }

    /// <summary>The key in <paramref name="base64"/>, or null when it is not base64 of exactly 32 bytes.</summary>
    public static byte[]? ParseKey(string base64)
    {
        var buffer = new byte[64];
        return Convert.TryFromBase64String(base64.Trim(), buffer, out var written) && written == 32 ? buffer[..32] : null;
    }

    /// <summary>
    /// The configured key (checked by StorageOptionsValidator), else the key file under the data folder, created on
    /// first start. A damaged or unreadable key file stops the start with a message naming it.
    /// </summary>
    public static KeyRing FromOptions(Hosting.StorageOptions options, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKey))
        {
            return new KeyRing(ParseKey(options.KeyEncryptionKey)
                ?? throw new InvalidOperationException("ScaiKey:KeyEncryptionKey must be 32 bytes, base64-encoded."));
        }

        var dataDirectory = options.FullDataDirectory;
        var path = Path.Combine(dataDirectory, "key-encryption.key");
        try
        {
            if (File.Exists(path))
            {
                return new KeyRing(ParseKey(File.ReadAllText(path))
                    ?? throw new InvalidOperationException($"The key-encryption key file {path} does not hold 32 bytes in base64; restore it from the backup (ScaiKey:KeyEncryptionKey)."));
            }

            Directory.CreateDirectory(dataDirectory);
            var key = RandomNumberGenerator.GetBytes(32);
            File.WriteAllText(path, Convert.ToBase64String(key));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            logger.LogWarning("No ScaiKey:KeyEncryptionKey configured; created {Path}. Set the same key on every instance that shares this database.", path);
            return new KeyRing(key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The key-encryption key file {path} cannot be read or created (ScaiKey:DataDirectory): {e.Message}", e);
        }
    }

    /// <summary>
    /// A 32-byte key for another purpose (keyed hashes), derived with HKDF-SHA256: it changes with the key-encryption
    /// key, is the same on every instance that shares it, and reveals nothing about it.
    /// </summary>
    public byte[] DeriveKey(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, 32, salt: [], info: Encoding.UTF8.GetBytes(purpose));

    /// <summary>Seals <paramref name="plaintext"/>; <paramref name="context"/> binds it to its row so sealed values cannot be swapped.</summary>
    public string Seal(byte[] plaintext, string context)
    {
        var output = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(context));
        return Convert.ToBase64String(output);
    }

    public byte[] Open(string sealedValue, string context)
    {
        var input = Convert.FromBase64String(sealedValue);
        // Shorter than a nonce and a tag cannot be a sealed value: refused as any forgery is, never an overflow (a 500
        // for every caller that opens what a client sent, e.g. a cookie or an mfa_token).
        if (input.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The sealed value is too short.");
        }

        var plaintext = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize + TagSize), input.AsSpan(NonceSize, TagSize), plaintext, Encoding.UTF8.GetBytes(context));
        return plaintext;
    }
}
