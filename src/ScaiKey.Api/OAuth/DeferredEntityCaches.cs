using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace ScaiKey.Api.OAuth;

/// <summary>
/// OpenIddict's per-request entity caches, made when a request first uses one. OpenIddict registers them as scoped
/// services that its managers take in their constructors, and each one builds a <c>MemoryCache</c> with its own
/// dictionaries when it is made: two per token request (the application and scope managers), which token requests
/// never use, since ScaiKey's application manager reads clients from its own cache there (<see cref="ScaiKeyApplicationManager"/>)
/// and registered scopes are checked without the scope manager. Anywhere else the first call makes OpenIddict's
/// cache, which then does all the work, so what is cached, and for how long, is unchanged.
/// </summary>
internal static class DeferredEntityCaches
{
    public static OpenIddictCoreBuilder UseDeferredEntityCaches(this OpenIddictCoreBuilder core)
    {
        core.Services.Replace(ServiceDescriptor.Scoped(typeof(IOpenIddictApplicationCache<>), typeof(DeferredApplicationCache<>)));
        core.Services.Replace(ServiceDescriptor.Scoped(typeof(IOpenIddictScopeCache<>), typeof(DeferredScopeCache<>)));
        return core;
    }
}

/// <summary>Holds OpenIddict's cache of one kind until a request first needs it (see <see cref="DeferredEntityCaches"/>).</summary>
internal abstract class DeferredCache<TCache>(IServiceProvider services) : IDisposable where TCache : class
{
    private TCache? _inner;

    protected TCache Inner => _inner ??= ActivatorUtilities.CreateInstance<TCache>(services);

    /// <summary>Whether OpenIddict's cache has been made (for tests).</summary>
    public bool IsMade => _inner is not null;

    public void Dispose() => (_inner as IDisposable)?.Dispose();
}

internal sealed class DeferredApplicationCache<TApplication>(IServiceProvider services)
    : DeferredCache<OpenIddictApplicationCache<TApplication>>(services), IOpenIddictApplicationCache<TApplication>
    where TApplication : class
{
    public ValueTask AddAsync(TApplication application, CancellationToken cancellationToken) => Inner.AddAsync(application, cancellationToken);

    public ValueTask<TApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken) =>
        Inner.FindByClientIdAsync(identifier, cancellationToken);

    public ValueTask<TApplication?> FindByIdAsync(string identifier, CancellationToken cancellationToken) =>
        Inner.FindByIdAsync(identifier, cancellationToken);

    public IAsyncEnumerable<TApplication> FindByPostLogoutRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        Inner.FindByPostLogoutRedirectUriAsync(uri, cancellationToken);

    public IAsyncEnumerable<TApplication> FindByRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        Inner.FindByRedirectUriAsync(uri, cancellationToken);

    public ValueTask RemoveAsync(TApplication application, CancellationToken cancellationToken) => Inner.RemoveAsync(application, cancellationToken);
}

internal sealed class DeferredScopeCache<TScope>(IServiceProvider services)
    : DeferredCache<OpenIddictScopeCache<TScope>>(services), IOpenIddictScopeCache<TScope>
    where TScope : class
{
    public ValueTask AddAsync(TScope scope, CancellationToken cancellationToken) => Inner.AddAsync(scope, cancellationToken);

    public ValueTask<TScope?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => Inner.FindByIdAsync(identifier, cancellationToken);

    public ValueTask<TScope?> FindByNameAsync(string name, CancellationToken cancellationToken) => Inner.FindByNameAsync(name, cancellationToken);

    public IAsyncEnumerable<TScope> FindByNamesAsync(ImmutableArray<string> names, CancellationToken cancellationToken) =>
        Inner.FindByNamesAsync(names, cancellationToken);

    public IAsyncEnumerable<TScope> FindByResourceAsync(string resource, CancellationToken cancellationToken) =>
        Inner.FindByResourceAsync(resource, cancellationToken);

    public ValueTask RemoveAsync(TScope scope, CancellationToken cancellationToken) => Inner.RemoveAsync(scope, cancellationToken);
}
