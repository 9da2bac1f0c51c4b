using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.OAuth;

/// <summary>
/// Token keys live in the database, sealed under the key ring, so every instance sharing the database signs
/// and validates with the same keys and tokens survive restarts. No development certificates, no ephemeral keys.
/// </summary>
internal sealed class SigningKeyStore(IServiceScopeFactory scopes, KeyRing keyRing)
{
    public const string SignatureUse = "sig";
    public const string EncryptionUse = "enc";

    private readonly Lock _gate = new();
    private TokenKeys? _keys;

    public TokenKeys Keys
    {
        get
        {
            if (_keys is not null)
            {
                return _keys;
            }

            lock (_gate)
            {
                return _keys ??= LoadOrCreate();
            }
        }
    }

    private TokenKeys LoadOrCreate()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        EnsureKey(db, SignatureUse);
        EnsureKey(db, EncryptionUse);

        var active = db.SigningKeys.AsNoTracking().Where(k => k.RetiredAt == null).ToList();

        // Instances that raced on first start may both have inserted a key: every instance picks the oldest
        // to sign with and publishes all of them, so they agree without coordination.
        var signing = active.Where(k => k.Use == SignatureUse).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();
        var encryption = active.Where(k => k.Use == EncryptionUse).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).First();

        var signingKeys = signing.Select(k =>
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(keyRing.Open(k.EncryptedKey, Context(k.Id, k.Use)), out _);
            return (SecurityKey)new ECDsaSecurityKey(ecdsa) { KeyId = k.Id };
        }).ToList();
        var encryptionKey = new SymmetricSecurityKey(keyRing.Open(encryption.EncryptedKey, Context(encryption.Id, encryption.Use)))
        {
            KeyId = encryption.Id,
        };
        return new TokenKeys(signingKeys, encryptionKey);
    }

    private void EnsureKey(ScaiKeyDbContext db, string use)
    {
        if (db.SigningKeys.Any(k => k.Use == use && k.RetiredAt == null))
        {
            return;
        }

        var id = use + "-" + Guid.CreateVersion7().ToString("N")[..20];
        byte[] material;
        string algorithm;
        if (use == SignatureUse)
        {
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            material = ecdsa.ExportPkcs8PrivateKey();
            algorithm = SecurityAlgorithms.EcdsaSha256;
        }
        else
        {
            material = RandomNumberGenerator.GetBytes(32);
            algorithm = "A256KW";
        }

        db.SigningKeys.Add(new SigningKey
        {
            Id = id,
            Use = use,
            Algorithm = algorithm,
            EncryptedKey = keyRing.Seal(material, Context(id, use)),
            CreatedAt = TimeProvider.System.UtcNow(),
        });
        CryptographicOperations.ZeroMemory(material);
        try
        {
            db.SaveChanges();
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            // Another instance created one at the same moment; theirs is as good as ours.
        }
    }

    private static string Context(string id, string use) => $"scaikey:token-key:{use}:{id}";
}

internal sealed record TokenKeys(IReadOnlyList<SecurityKey> SigningKeys, SymmetricSecurityKey EncryptionKey);
