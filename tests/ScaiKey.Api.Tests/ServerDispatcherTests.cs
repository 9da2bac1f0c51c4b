using Microsoft.Extensions.DependencyInjection;
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
            var found = (OpenIddictServerHandlerDescriptor[])forType.MakeGenericMethod(type).Invoke(index, null)!;
            Assert.Equal(handlers.Where(d => d.ContextType == type), found);
            total += found.Length;
        }

        Assert.Equal(handlers.Count, total);
    }
}
