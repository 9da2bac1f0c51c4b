using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Memory;

namespace ScaiKey.Api.Telemetry;

/// <summary>
/// The shared <see cref="IMemoryCache"/> with every look-up counted in <c>scaikey.cache.requests</c>, so the caches
/// of tenants, applications, clients, roles and revocations report their hit rates without each counting its own.
/// A cache is named by its key's prefix ("tenant:…" is "tenant", a tuple key by its first string). Only a prefix of
/// lower-case letters and hyphens becomes a name, and only the first <see cref="MaxNames"/>: a key that starts
/// with an id, a token or an address can never reach a tag, and the tag's values stay few.
/// </summary>
internal sealed class MeteredMemoryCache(IMemoryCache inner, ScaiKeyMetrics metrics) : IMemoryCache
{
    public const string Other = "other";
    private const int MaxNames = 32;
    private const int MaxNameLength = 40;

    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);

    public bool TryGetValue(object key, out object? value)
    {
        var hit = inner.TryGetValue(key, out value);
        metrics.CacheRequest(NameOf(key), hit);
        return hit;
    }

    public ICacheEntry CreateEntry(object key) => inner.CreateEntry(key);

    public void Remove(object key) => inner.Remove(key);

    public void Dispose() => inner.Dispose();

    private string NameOf(object key)
    {
        // "name:rest" (a key without the colon may be anything, a token even), or a tuple led by its cache's name.
        var prefix = key switch
        {
            string s when s.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon => s.AsSpan(0, colon),
            ITuple { Length: > 1 } tuple when tuple[0] is string first => first.AsSpan(),
            _ => [],
        };
        if (prefix.IsEmpty || prefix.Length > MaxNameLength || prefix.ContainsAnyExcept(NameCharacters))
        {
            return Other;
        }

        // Looked up by span: a hit allocates nothing.
        var lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(prefix, out var name))
        {
            return name;
        }

        return _names.Count >= MaxNames ? Other : _names.GetOrAdd(prefix.ToString(), static p => p);
    }

    private static readonly System.Buffers.SearchValues<char> NameCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz-");
}
