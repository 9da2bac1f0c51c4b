using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;
using ScaiKey.Api.Security;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.OAuth;

/// <summary>
/// Client secrets are 32 random bytes, so guessing them is hopeless and a password hash (OpenIddict's PBKDF2, about
/// 3 ms per check) only slows every token request. They are stored as HMAC-SHA256 under a server key derived from
/// the key ring instead: a microsecond per check, and a stolen database alone cannot even test a candidate.
/// </summary>
internal sealed class ClientSecretHasher(KeyRing keyRing)
{
    public const string Prefix = "hmac-sha256$";
    private const int HashSize = 32;

    private readonly byte[] _key = keyRing.DeriveKey("scaikey:client-secret:hmac-sha256");

    public static bool IsKeyedHash(string stored) => stored.StartsWith(Prefix, StringComparison.Ordinal);

    public string Hash(string secret)
    {
        Span<byte> mac = stackalloc byte[HashSize];
        Compute(secret, mac);
        return Prefix + Convert.ToBase64String(mac);
    }

    public bool Verify(string secret, string stored)
    {
        Span<byte> expected = stackalloc byte[HashSize];
        if (!IsKeyedHash(stored)
            || !Convert.TryFromBase64Chars(stored.AsSpan(Prefix.Length), expected, out var written) || written != HashSize)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[HashSize];
        Compute(secret, actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private void Compute(string secret, Span<byte> destination)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        try
        {
            HMACSHA256.HashData(_key, bytes, destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}

/// <summary>
/// OpenIddict's application manager with keyed-hash client secrets. Secrets stored by earlier versions (PBKDF2) still
/// validate and are rewritten as keyed hashes on their first successful use, so the slow path runs once per client.
/// On the token endpoint, applications come from a short-lived in-memory copy instead of one query per request
/// (see <see cref="FindByClientIdAsync"/>).
/// </summary>
internal sealed class ScaiKeyApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    ClientSecretHasher hasher,
    IMemoryCache memory,
    IHttpContextAccessor accessor)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    /// <summary>How long another instance may go on using an application after it changed (as for role grants).</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);

    private static readonly PathString TokenEndpoint = new("/" + OAuthSetup.TokenPath);

    /// <summary>
    /// Forgets this instance's copy of a client. Updates and deletes through this manager do it themselves; call it
    /// again after the surrounding transaction commits, so that no request re-reads the old row in between.
    /// </summary>
    public static void Evict(IMemoryCache memory, string clientId) => memory.Remove(CacheKey(clientId));

    private static string CacheKey(string clientId) => "oauth-client:" + clientId;

    // This request's copy of its client: OpenIddict's handlers look the client up about six times per token request.
    private OpenIddictEntityFrameworkCoreApplication? _copy;

    /// <summary>
    /// Token requests read the client from memory for up to <see cref="CacheLifetime"/>: no query per token. Elsewhere
    /// (admin endpoints that update or delete what they find) the tracked row from the database, as before. The copy
    /// handed out is detached and made for the request (this manager lives as long as the request), so nothing one
    /// request does to its copy reaches another request; within the request every lookup gets the same copy, as
    /// OpenIddict's own per-request cache hands out one instance.
    /// </summary>
    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        if (accessor.HttpContext?.Request.Path.Equals(TokenEndpoint, StringComparison.OrdinalIgnoreCase) != true)
        {
            return await base.FindByClientIdAsync(identifier, cancellationToken);
        }

        if (_copy is { } copy && string.Equals(copy.ClientId, identifier, StringComparison.Ordinal))
        {
            return copy;
        }

        if (memory.TryGetValue(CacheKey(identifier), out OpenIddictEntityFrameworkCoreApplication? cached) && cached is not null)
        {
            return _copy = Copy(cached);
        }

        var application = await base.FindByClientIdAsync(identifier, cancellationToken);
        if (application is not null)
        {
            // Unknown client ids are not remembered: nobody can fill the cache by asking for made-up ones.
            memory.Set(CacheKey(identifier), Copy(application), CacheLifetime);

            // The rest of this request keeps the row it read (fresh for this request, like a copy).
            _copy = application;
        }

        return application;
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        await base.UpdateAsync(application, cancellationToken);
        Forget(application);
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        await base.DeleteAsync(application, cancellationToken);
        Forget(application);
    }

    protected override ValueTask<string> ObfuscateClientSecretAsync(string secret, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return ValueTask.FromResult(hasher.Hash(secret));
    }

    protected override ValueTask<bool> ValidateClientSecretAsync(string secret, string comparand, CancellationToken cancellationToken = default) =>
        ClientSecretHasher.IsKeyedHash(comparand)
            ? ValueTask.FromResult(hasher.Verify(secret, comparand))
            : base.ValidateClientSecretAsync(secret, comparand, cancellationToken);

    public override async ValueTask<bool> ValidateClientSecretAsync(
        OpenIddictEntityFrameworkCoreApplication application, string secret, CancellationToken cancellationToken = default)
    {
        if (!await base.ValidateClientSecretAsync(application, secret, cancellationToken))
        {
            return false;
        }

        if (application.ClientSecret is { } stored && !ClientSecretHasher.IsKeyedHash(stored))
        {
            await UpgradeAsync(application, secret, cancellationToken);
        }

        return true;
    }

    /// <summary>Rewrites a PBKDF2 secret as a keyed hash. Best effort: the client is already authenticated either way.</summary>
    private async Task UpgradeAsync(OpenIddictEntityFrameworkCoreApplication application, string secret, CancellationToken cancellationToken)
    {
        try
        {
            // The tracked row, not the copy this request may hold: the write must carry the row's concurrency token.
            var tracked = application.Id is { } id ? await Store.FindByIdAsync(id, cancellationToken) : null;
            if (tracked?.ClientSecret is not { } stored || ClientSecretHasher.IsKeyedHash(stored))
            {
                return;
            }

            await Store.SetClientSecretAsync(tracked, hasher.Hash(secret), cancellationToken);
            await Store.UpdateAsync(tracked, cancellationToken);
            Forget(tracked);
            Logger.LogInformation("Client {ClientId}: stored secret upgraded to a keyed hash", tracked.ClientId);
        }
        catch (OpenIddictExceptions.ConcurrencyException)
        {
            // Another request upgraded (or an admin rotated) it first; the winner's value stands.
            Logger.LogDebug("Client {ClientId}: secret upgrade lost a race and was skipped", application.ClientId);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Logger.LogWarning("Client {ClientId}: secret upgrade failed ({Error}); the next token request retries", application.ClientId, exception.GetType().Name);
        }
    }

    private void Forget(OpenIddictEntityFrameworkCoreApplication application)
    {
        _copy = null;
        if (application.ClientId is { } clientId)
        {
            Evict(memory, clientId);
        }
    }

    // A field-by-field clone with navigation collections of its own. Not `new`: the entity's constructor draws a
    // random GUID for its concurrency token (a getrandom call and a string per token request, about 2 % of a
    // client-credential or password token's CPU beyond the hash), only for the copy to overwrite it.
    private static OpenIddictEntityFrameworkCoreApplication Copy(OpenIddictEntityFrameworkCoreApplication source)
    {
        var copy = (OpenIddictEntityFrameworkCoreApplication)CloneFields(source);
        AuthorizationsField.SetValue(copy, new HashSet<OpenIddictEntityFrameworkCoreAuthorization>());
        TokensField.SetValue(copy, new HashSet<OpenIddictEntityFrameworkCoreToken>());
        return copy;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "MemberwiseClone")]
    private static extern object CloneFields(object source);

    // The get-only collections' backing fields; a renamed one fails the first token request of every test.
    private static readonly FieldInfo AuthorizationsField = NavigationField(nameof(OpenIddictEntityFrameworkCoreApplication.Authorizations));
    private static readonly FieldInfo TokensField = NavigationField(nameof(OpenIddictEntityFrameworkCoreApplication.Tokens));

    private static FieldInfo NavigationField(string property) =>
        typeof(OpenIddictEntityFrameworkCoreApplication<string, OpenIddictEntityFrameworkCoreAuthorization, OpenIddictEntityFrameworkCoreToken>)
            .GetField($"<{property}>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingFieldException(typeof(OpenIddictEntityFrameworkCoreApplication).FullName, property);
}

internal static class ClientSecretsSetup
{
    /// <summary>Keyed-hash client secrets (see <see cref="ClientSecretHasher"/>); call inside AddOpenIddict().AddCore(...).</summary>
    public static OpenIddictCoreBuilder UseScaiKeyClientSecrets(this OpenIddictCoreBuilder core)
    {
        core.Services.TryAddSingleton<ClientSecretHasher>();
        return core.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, ScaiKeyApplicationManager>();
    }
}
