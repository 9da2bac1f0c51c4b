using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.OAuth;

/// <summary>
/// Token keys live in the database, sealed under the key ring, so every instance sharing the database signs
/// and validates with the same keys and tokens survive restarts. No development certificates, no ephemeral keys.
/// <para>
/// Signing keys rotate (see <see cref="SigningKeyEndpoints"/>): the newest key that is not scheduled for
/// retirement signs; every key whose retirement lies in the future is published and accepted. Each instance holds
/// an immutable snapshot of the table, read again when it is older than <c>ScaiKey:SigningKeys:RefreshSeconds</c>
/// (on first use after that, so an idle instance costs nothing), when a token names a key the snapshot lacks
/// (at most once per <see cref="UnknownKeyReloadInterval"/>, so made-up kids cannot flood the database), and at once
/// on the instance that rotated.
/// </para>
/// </summary>
internal sealed class SigningKeyStore(IServiceScopeFactory scopes, KeyRing keyRing, TimeProvider time, Microsoft.Extensions.Options.IOptions<SigningKeyOptions> options) : IDisposable
{
    public const string SignatureUse = "sig";
    public const string EncryptionUse = "enc";

    /// <summary>The least time between two reloads caused by tokens naming a key this instance does not know.</summary>
    public static readonly TimeSpan UnknownKeyReloadInterval = TimeSpan.FromSeconds(1);

    /// <summary>Slack on top of the token lifetimes before a replaced key retires, for clocks that disagree a little.</summary>
    public static readonly TimeSpan RetirementMargin = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _reloadGate = new(1, 1);

    // Opening a key costs an AES-GCM decryption and a key import; a reload reuses what it already opened.
    private readonly ConcurrentDictionary<string, SecurityKey> _opened = new(StringComparer.Ordinal);
    private volatile TokenKeys? _keys;
    private DateTimeOffset _lastUnknownKeyReload = DateTimeOffset.MinValue;

    public TimeSpan RefreshInterval { get; } =
        TimeSpan.FromSeconds(options.Value.RefreshSeconds);

    /// <summary>The keys as this instance last read them (read synchronously the first time, at start-up).</summary>
    public TokenKeys Keys
    {
        get
        {
            if (_keys is { } keys)
            {
                return keys;
            }

            lock (_gate)
            {
                return _keys ??= LoadOrCreate();
            }
        }
    }

    /// <summary>The keys, read again first when the snapshot is older than the refresh interval.</summary>
    public async ValueTask<TokenKeys> CurrentAsync(CancellationToken cancellationToken)
    {
        var keys = Keys;
        if (time.GetUtcNow() - keys.LoadedAt < RefreshInterval)
        {
            return keys;
        }

        // One caller reloads; the others keep using the snapshot they have rather than queue behind it.
        if (!await _reloadGate.WaitAsync(0, cancellationToken))
        {
            return keys;
        }

        try
        {
            keys = Keys;
            return time.GetUtcNow() - keys.LoadedAt < RefreshInterval ? keys : await LoadAsync(cancellationToken);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>
    /// The keys to check a token signed with <paramref name="keyId"/> against: when the snapshot does not publish it,
    /// another instance may have rotated since this one last read the table, so it is read again (rate-limited).
    /// </summary>
    public async ValueTask<TokenKeys> ForKeyIdAsync(string? keyId, CancellationToken cancellationToken)
    {
        var keys = await CurrentAsync(cancellationToken);
        if (keyId is null || keys.Publishes(keyId, time.GetUtcNow()))
        {
            return keys;
        }

        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            keys = Keys;
            var now = time.GetUtcNow();
            if (keys.Publishes(keyId, now) || now - _lastUnknownKeyReload < UnknownKeyReloadInterval)
            {
                return keys;
            }

            _lastUnknownKeyReload = now;
            return await LoadAsync(cancellationToken);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>Reads the table again now: after a rotation on this instance, which must take effect at once.</summary>
    public async Task<TokenKeys> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            return await LoadAsync(cancellationToken);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>A new ES256 signing key, sealed and ready to insert; the caller decides when it commits.</summary>
    public SigningKey NewSigningKey(DateTime createdAt) => NewKey(SignatureUse, createdAt);

    /// <summary>
    /// The kid of the key that signed a token, looking inside an encrypted token (codes and refresh tokens are JWE
    /// around a JWS) with the decryption keys the token will be validated with. Null when it cannot be told.
    /// </summary>
    public static string? SigningKeyIdOf(string token, JsonWebTokenHandler handler, TokenValidationParameters parameters)
    {
        try
        {
            // Access tokens reach every API request: read the protected header only, not the whole token.
            switch (token.AsSpan().Count('.'))
            {
                case 2:
                    return HeaderKeyId(token.AsSpan(0, token.IndexOf('.')));
                case 4 when handler.CanReadToken(token):
                    var inner = handler.DecryptToken(handler.ReadJsonWebToken(token), parameters);
                    return inner.AsSpan().Count('.') == 2 ? HeaderKeyId(inner.AsSpan(0, inner.IndexOf('.'))) : null;
                default:
                    return null;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or FormatException or JsonException or CryptographicException)
        {
            // Not ours or not well-formed: validation proper rejects it with the usual answer.
            return null;
        }
    }

    private static string? HeaderKeyId(ReadOnlySpan<char> encodedHeader)
    {
        var reader = new Utf8JsonReader(Base64Url.DecodeFromChars(encodedHeader));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isKid = reader.ValueTextEquals("kid"u8);
            reader.Read();
            if (isKid)
            {
                return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }

            reader.Skip();
        }

        return null;
    }

    private TokenKeys LoadOrCreate()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        EnsureKey(db, SignatureUse);
        EnsureKey(db, EncryptionUse);

        var now = time.UtcNow();
        return Build(db.SigningKeys.AsNoTracking().Where(k => k.RetiredAt == null || k.RetiredAt > now).ToList());
    }

    // Callers hold _reloadGate, so reloads never interleave; the start-up read may race one, and either result is current.
    private async Task<TokenKeys> LoadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var now = time.UtcNow();
        var rows = await db.SigningKeys.AsNoTracking().Where(k => k.RetiredAt == null || k.RetiredAt > now).ToListAsync(cancellationToken);
        var keys = Build(rows);
        _keys = keys;
        return keys;
    }

    private TokenKeys Build(List<SigningKey> rows)
    {
        // The newest key not scheduled for retirement signs. Instances that raced on first start (or admins who
        // rotated at the same moment) may leave two such keys: all instances order them the same way, so they agree
        // without coordination, and the other one stays published.
        var signing = rows.Where(k => k.Use == SignatureUse)
            .OrderByDescending(k => k.RetiredAt is null)
            .ThenByDescending(k => k.CreatedAt)
            .ThenByDescending(k => k.Id, StringComparer.Ordinal)
            .ToList();
        var encryption = rows.Where(k => k.Use == EncryptionUse && k.RetiredAt == null)
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).FirstOrDefault();
        if (signing.Count == 0 || encryption is null)
        {
            throw new InvalidOperationException("The signing_keys table holds no usable signing or encryption key.");
        }

        var published = signing.Select(k =>
        {
            var key = (ECDsaSecurityKey)_opened.GetOrAdd(k.Id, _ => OpenSigningKey(k));
            return new PublishedKey(key, PublicJwk(key), k.RetiredAt);
        }).ToList();
        var encryptionKey = (SymmetricSecurityKey)_opened.GetOrAdd(encryption.Id, _ =>
            new SymmetricSecurityKey(keyRing.Open(encryption.EncryptedKey, Context(encryption.Id, encryption.Use))) { KeyId = encryption.Id });
        return new TokenKeys(published, encryptionKey, time.GetUtcNow());
    }

    private ECDsaSecurityKey OpenSigningKey(SigningKey row)
    {
        var ecdsa = ECDsa.Create();
        var material = keyRing.Open(row.EncryptedKey, Context(row.Id, row.Use));
        try
        {
            ecdsa.ImportPkcs8PrivateKey(material, out _);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }

        return new ECDsaSecurityKey(ecdsa) { KeyId = row.Id };
    }

    /// <summary>The public half only, written the way OpenIddict writes its own JWKS entries.</summary>
    private static JsonWebKey PublicJwk(ECDsaSecurityKey key)
    {
        var parameters = key.ECDsa.ExportParameters(includePrivateParameters: false);
        return new JsonWebKey
        {
            Kid = key.KeyId,
            Use = JsonWebKeyUseNames.Sig,
            Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
            Alg = SecurityAlgorithms.EcdsaSha256,
            Crv = JsonWebKeyECTypes.P256,
            X = Base64UrlEncoder.Encode(parameters.Q.X),
            Y = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
    }

    private void EnsureKey(ScaiKeyDbContext db, string use)
    {
        if (db.SigningKeys.Any(k => k.Use == use && k.RetiredAt == null))
        {
            return;
        }

        db.SigningKeys.Add(NewKey(use, time.UtcNow()));
        try
        {
            db.SaveChanges();
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            // Another instance created one at the same moment; theirs is as good as ours.
        }
    }

    private SigningKey NewKey(string use, DateTime createdAt)
    {
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

        try
        {
            return new SigningKey
            {
                Id = id,
                Use = use,
                Algorithm = algorithm,
                EncryptedKey = keyRing.Seal(material, Context(id, use)),
                CreatedAt = createdAt,
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>The associated data a token key is sealed under (also read by the key_ring readiness check).</summary>
    internal static string Context(string id, string use) => $"scaikey:token-key:{use}:{id}";

    // The opened keys are left to the garbage collector: IdentityModel caches signature providers process-wide by key
    // id, so disposing an ECDsa here would break signing for anything else in the process using the same key.
    public void Dispose() => _reloadGate.Dispose();
}

/// <summary>A signing key as published: the key, its public JWK and when it retires (null: not scheduled).</summary>
internal sealed record PublishedKey(ECDsaSecurityKey Key, JsonWebKey Jwk, DateTime? RetiredAt);

/// <summary>An immutable snapshot of the token keys; shared by concurrent requests and replaced whole on reload.</summary>
internal sealed class TokenKeys
{
    private readonly IReadOnlyList<PublishedKey> _published;
    private readonly IReadOnlyList<SecurityKey> _validationKeys;
    private readonly IReadOnlyList<JsonWebKey> _jwks;

    // Until this instant every loaded key is still published, so the precomputed lists hold.
    private readonly DateTimeOffset _nextRetirement;

    public TokenKeys(IReadOnlyList<PublishedKey> published, SymmetricSecurityKey encryptionKey, DateTimeOffset loadedAt)
    {
        _published = published;
        _validationKeys = published.Select(k => (SecurityKey)k.Key).ToList();
        _jwks = published.Select(k => k.Jwk).ToList();
        _nextRetirement = published.Where(k => k.RetiredAt is not null)
            .Select(k => new DateTimeOffset(DateTime.SpecifyKind(k.RetiredAt!.Value, DateTimeKind.Utc)))
            .DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        SigningCredentials = new SigningCredentials(published[0].Key, SecurityAlgorithms.EcdsaSha256);
        EncryptionKey = encryptionKey;
        LoadedAt = loadedAt;
    }

    /// <summary>Every signing key loaded, the one that signs first.</summary>
    public IReadOnlyList<SecurityKey> SigningKeys => _validationKeys;

    /// <summary>What new tokens are signed with: the newest key not scheduled for retirement.</summary>
    public SigningCredentials SigningCredentials { get; }

    public string SigningKeyId => SigningCredentials.Key.KeyId;

    public SymmetricSecurityKey EncryptionKey { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>The keys tokens may be signed with at <paramref name="now"/>: every key not yet retired.</summary>
    public IReadOnlyList<SecurityKey> ValidationKeys(DateTimeOffset now) =>
        now < _nextRetirement ? _validationKeys : Live(now).Select(k => (SecurityKey)k.Key).ToList();

    /// <summary>The JWKS entries (public halves only) at <paramref name="now"/>.</summary>
    public IReadOnlyList<JsonWebKey> JsonWebKeys(DateTimeOffset now) =>
        now < _nextRetirement ? _jwks : Live(now).Select(k => k.Jwk).ToList();

    // On every API request: a plain loop over two or three keys, no allocation.
    public bool Publishes(string keyId, DateTimeOffset now)
    {
        var instant = now.UtcDateTime;
        foreach (var key in _published)
        {
            if (string.Equals(key.Key.KeyId, keyId, StringComparison.Ordinal) && (key.RetiredAt is null || key.RetiredAt.Value > instant))
            {
                return true;
            }
        }

        return false;
    }

    private IEnumerable<PublishedKey> Live(DateTimeOffset now)
    {
        var instant = now.UtcDateTime;
        return _published.Where(k => k.RetiredAt is null || k.RetiredAt.Value > instant);
    }
}
