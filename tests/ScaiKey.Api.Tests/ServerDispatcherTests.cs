using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Tests;

/// <summary>
/// OpenIddict's server events go through <see cref="IndexedServerDispatcher"/>, which finds each event type's handlers
/// once; it must hand every event exactly the handlers OpenIddict's own dispatcher would, in the same order (every
/// protocol test then runs through it).
/// </summary>
public sealed class ServerDispatcherTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public void Server_events_are_dispatched_by_the_indexed_dispatcher()
    {
        using var scope = app.Host.Services.CreateScope();
        Assert.IsType<IndexedServerDispatcher>(scope.ServiceProvider.GetRequiredService<IOpenIddictServerDispatcher>());
    }

    [Fact]
    public void Every_event_type_gets_openiddicts_handlers_in_openiddicts_order_and_no_other()
    {
        var handlers = app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.Handlers;
        var index = app.Host.Services.GetRequiredService<ServerHandlerIndex>();
        var forType = typeof(ServerHandlerIndex).GetMethod(nameof(ServerHandlerIndex.For))!;

        var contextTypes = handlers.Select(d => d.ContextType).Distinct().ToList();
        Assert.True(contextTypes.Count > 20, $"only {contextTypes.Count} event types");
        var total = 0;
        foreach (var type in contextTypes)
        {
            var found = ((IEnumerable<object>)forType.MakeGenericMethod(type).Invoke(index, null)!)
                .Select(entry => (OpenIddictServerHandlerDescriptor)entry.GetType().GetProperty("Descriptor")!.GetValue(entry)!).ToList();
            Assert.Equal(handlers.Where(d => d.ContextType == type), found);
            total += found.Count;
        }

        Assert.Equal(handlers.Count, total);
    }

    [Fact]
    public void Singleton_handlers_and_filters_are_kept_and_scoped_ones_are_resolved_per_request()
    {
        var handlers = app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.Handlers;
        var index = app.Host.Services.GetRequiredService<ServerHandlerIndex>();
        var forType = typeof(ServerHandlerIndex).GetMethod(nameof(ServerHandlerIndex.For))!;
        int kept = 0, scoped = 0, keptFilters = 0;
        foreach (var type in handlers.Select(d => d.ContextType).Distinct())
        {
            foreach (var entry in (IEnumerable<object>)forType.MakeGenericMethod(type).Invoke(index, null)!)
            {
                var descriptor = (OpenIddictServerHandlerDescriptor)entry.GetType().GetProperty("Descriptor")!.GetValue(entry)!;
                var handler = entry.GetType().GetProperty("Handler")!.GetValue(entry);
                var filters = (Array)entry.GetType().GetProperty("Filters")!.GetValue(entry)!;
                Assert.Equal(descriptor.FilterTypes.Length, filters.Length);
                keptFilters += filters.Cast<object?>().Count(f => f is not null);
                if (descriptor.ServiceDescriptor.Lifetime != ServiceLifetime.Singleton)
                {
                    Assert.Null(handler);
                    scoped++;
                }
                else
                {
                    Assert.NotNull(handler);
                    kept++;
                }
            }
        }

        // OpenIddict's built-in filters are all singletons.
        Assert.True(kept > 100 && scoped > 10 && keptFilters > 100, $"{kept} kept, {scoped} scoped, {keptFilters} filters kept");
    }

    private sealed class Filter;

    [Fact]
    public void Only_a_types_last_unkeyed_registration_decides_whether_it_is_kept_as_a_singleton()
    {
        var services = new ServiceCollection();
        services.AddSingleton<Filter>();
        services.AddScoped<Filter>();                       // the container resolves the last one: scoped
        services.AddScoped<ServerDispatcherTests>();
        services.TryAddSingleton<ServerDispatcherTests>();  // lost to the scoped one already there
        services.AddKeyedSingleton<string>("key", "value"); // keyed: GetService(Type) never returns it
        services.AddTransient<object>();
        services.AddSingleton<object>();                    // last: singleton
        using var root = services.BuildServiceProvider();

        var isSingleton = ServerHandlerIndex.SingletonTypes(services, root);
        Assert.False(isSingleton(typeof(Filter)));
        Assert.False(isSingleton(typeof(ServerDispatcherTests)));
        Assert.False(isSingleton(typeof(string)));
        Assert.True(isSingleton(typeof(object)));

        // Another container (anything but Microsoft's ServiceProvider) may resolve differently: nothing is kept.
        Assert.False(ServerHandlerIndex.SingletonTypes(services, new OtherContainer(root))(typeof(object)));
    }

    private sealed class OtherContainer(IServiceProvider inner) : IServiceProvider
    {
        public object? GetService(Type serviceType) => inner.GetService(serviceType);
    }
}
