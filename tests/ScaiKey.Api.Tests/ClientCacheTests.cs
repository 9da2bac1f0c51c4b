using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace ScaiKey.Api.Tests;

/// <summary>
/// On the token endpoint the application manager hands out copies of a client it keeps in memory: each call gets
/// its own object, with every stored column and navigation collections of its own, so nothing one token request
/// does to its client reaches another request.
/// </summary>
public sealed class ClientCacheTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Each_token_request_gets_its_own_full_copy_of_a_cached_client()
    {
        var (_, clientId, _) = await app.CreateAdminClientAsync();
        var stored = await FindAsync(clientId, "/api/v1/admin/clients");
        _ = await FindAsync(clientId, "/connect/token"); // fills the cache; the copies below come from it
        var first = await FindAsync(clientId, "/connect/token");
        var second = await FindAsync(clientId, "/connect/token");

        Assert.NotSame(first, second);
        foreach (var copy in new[] { first, second })
        {
            // Every column as the database has it, the concurrency token included (a fresh one would fail an update).
            foreach (var property in typeof(OpenIddictEntityFrameworkCoreApplication).GetProperties()
                .Where(p => p.CanWrite && (p.PropertyType == typeof(string) || p.PropertyType.IsValueType)))
            {
                Assert.Equal(property.GetValue(stored), property.GetValue(copy));
            }

            Assert.Empty(copy.Authorizations);
            Assert.Empty(copy.Tokens);
        }

        Assert.NotSame(first.Authorizations, second.Authorizations);
        Assert.NotSame(first.Tokens, second.Tokens);
        first.Tokens.Add(new OpenIddictEntityFrameworkCoreToken());
        first.ClientSecret = "changed by one request";
        var third = await FindAsync(clientId, "/connect/token");
        Assert.NotSame(second, third);
        Assert.Empty(third.Tokens);
        Assert.Equal(stored.ClientSecret, third.ClientSecret);
    }

    [Fact]
    public async Task Within_one_token_request_every_lookup_gets_the_same_copy()
    {
        var (_, cached, _) = await app.CreateAdminClientAsync();
        _ = await FindAsync(cached, "/connect/token");
        var (_, uncached, _) = await app.CreateAdminClientAsync();

        // From ScaiKey's copy, and when the request's first lookup is the one that reads the database.
        foreach (var clientId in new[] { cached, uncached })
        {
            await InRequestAsync("/connect/token", async (manager, _) =>
            {
                var first = await manager.FindByClientIdAsync(clientId);
                Assert.NotNull(first);
                Assert.Same(first, await manager.FindByClientIdAsync(clientId));
                Assert.NotSame(first, await FindAsync(clientId, "/connect/token"));
            });
        }
    }

    [Fact]
    public async Task Openiddicts_entity_cache_is_made_only_where_a_request_uses_it()
    {
        var (_, clientId, _) = await app.CreateAdminClientAsync();
        _ = await FindAsync(clientId, "/connect/token"); // ScaiKey's copy of the client, which later token requests read
        foreach (var (path, used) in new[] { ("/connect/token", false), ("/api/v1/admin/clients", true) })
        {
            await InRequestAsync(path, async (manager, services) =>
            {
                var cache = Assert.IsType<ScaiKey.Api.OAuth.DeferredApplicationCache<OpenIddictEntityFrameworkCoreApplication>>(
                    services.GetRequiredService<IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication>>());
                Assert.NotNull(await manager.FindByClientIdAsync(clientId));
                Assert.NotNull(await manager.FindByClientIdAsync(clientId));
                Assert.Equal(used, cache.IsMade);
            });
        }
    }

    private async Task<OpenIddictEntityFrameworkCoreApplication> FindAsync(string clientId, string path)
    {
        OpenIddictEntityFrameworkCoreApplication? found = null;
        await InRequestAsync(path, async (manager, _) =>
            found = Assert.IsType<OpenIddictEntityFrameworkCoreApplication>(await manager.FindByClientIdAsync(clientId)));
        return found!;
    }

    /// <summary>Runs <paramref name="work"/> with the application manager of a request scope for <paramref name="path"/>.</summary>
    private async Task InRequestAsync(string path, Func<IOpenIddictApplicationManager, IServiceProvider, Task> work)
    {
        await using var scope = app.Host.Services.CreateAsyncScope();
        var accessor = scope.ServiceProvider.GetRequiredService<IHttpContextAccessor>();
        var previous = accessor.HttpContext;
        accessor.HttpContext = new DefaultHttpContext { Request = { Path = path } };
        try
        {
            await work(scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>(), scope.ServiceProvider);
        }
        finally
        {
            accessor.HttpContext = previous;
        }
    }
}
