using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// OpenIddict's server dispatcher with one change: the handlers of each event type are found once, not on every event.
/// <para>
/// OpenIddict's own <see cref="OpenIddictServerDispatcher"/> walks every registered handler descriptor (several hundred:
/// every endpoint, grant and token type) on every event, comparing each one's context type; a token request raises
/// about twenty events, so the walk and its casts were 10-15 % of the service's CPU under the client-credential bench
/// (perf, session 15). Here <see cref="ServerHandlerIndex"/> keeps, per context type, the descriptors of that type in
/// OpenIddict's order, with the filter and handler instances the container holds as singletons, and everything else
/// is what OpenIddict does: each handler's filters are asked just before the handler would run (a filter may read what
/// an earlier handler of the same event set), in order, the first "no" skipping the handler; scoped filters and
/// handlers come from the request's service provider; and a handled, skipped or rejected request stops the event after
/// the handler that said so.
/// </para>
/// </summary>
internal sealed class IndexedServerDispatcher(
    ILogger<OpenIddictServerDispatcher> logger,
    ServerHandlerIndex index,
    IServiceProvider provider) : IOpenIddictServerDispatcher
{
    public async ValueTask DispatchAsync<TContext>(TContext context) where TContext : BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);
        var handlers = index.For<TContext>();
        for (var i = 0; i < handlers.Length; i++)
        {
            var entry = handlers[i];
            var active = IsActiveAsync(entry, context);
            if (!(active.IsCompletedSuccessfully ? active.Result : await active))
            {
                continue;
            }

            var handler = entry.Handler ?? Resolve<TContext>(entry.Descriptor);
            try
            {
                await handler.HandleAsync(context);
            }
            catch (Exception exception) when (exception is not (OutOfMemoryException or StackOverflowException or AccessViolationException)
                && logger.IsEnabled(LogLevel.Debug))
            {
                DispatcherLog.HandlerFailed(logger, exception, handler.GetType().FullName, typeof(TContext).FullName);
                throw;
            }

            if (logger.IsEnabled(LogLevel.Debug))
            {
                DispatcherLog.HandlerRan(logger, typeof(TContext).FullName, handler.GetType().FullName);
            }

            if (context is not BaseRequestContext request)
            {
                continue;
            }

            Action<ILogger, string?, string?>? stopped = request switch
            {
                { IsRequestHandled: true } => DispatcherLog.Handled,
                { IsRequestSkipped: true } => DispatcherLog.Skipped,
                BaseValidatingContext { IsRejected: true } => DispatcherLog.Rejected,
                _ => null,
            };
            if (stopped is not null)
            {
                if (logger.IsEnabled(LogLevel.Debug))
                {
                    stopped(logger, typeof(TContext).FullName, handler.GetType().FullName);
                }

                return;
            }
        }
    }

    // Filters nearly always answer synchronously (they read the context or the options): those answers are taken
    // without an async state machine per handler, of which a token request passes about a hundred.
    private ValueTask<bool> IsActiveAsync<TContext>(IndexedHandler<TContext> entry, TContext context)
        where TContext : BaseContext
    {
        var types = entry.Descriptor.FilterTypes;
        for (var i = 0; i < types.Length; i++)
        {
            var active = Filter(entry, i).IsActiveAsync(context);
            if (!active.IsCompletedSuccessfully)
            {
                return RestAsync(entry, context, i, active);
            }

            if (!active.Result)
            {
                return new(false);
            }
        }

        return new(true);
    }

    private async ValueTask<bool> RestAsync<TContext>(IndexedHandler<TContext> entry, TContext context, int index, ValueTask<bool> pending)
        where TContext : BaseContext
    {
        if (!await pending)
        {
            return false;
        }

        for (var i = index + 1; i < entry.Descriptor.FilterTypes.Length; i++)
        {
            if (!await Filter(entry, i).IsActiveAsync(context))
            {
                return false;
            }
        }

        return true;
    }

    private IOpenIddictServerHandlerFilter<TContext> Filter<TContext>(IndexedHandler<TContext> entry, int index)
        where TContext : BaseContext =>
        entry.Filters[index]
        ?? provider.GetService(entry.Descriptor.FilterTypes[index]) as IOpenIddictServerHandlerFilter<TContext>
        ?? throw new InvalidOperationException(OpenIddictResources.FormatID0099(entry.Descriptor.FilterTypes[index]));

    // Instance handlers (ServiceDescriptor.ImplementationInstance) are always in the index already.
    private IOpenIddictServerHandler<TContext> Resolve<TContext>(OpenIddictServerHandlerDescriptor descriptor)
        where TContext : BaseContext =>
        provider.GetService(descriptor.ServiceDescriptor.ServiceType) as IOpenIddictServerHandler<TContext>
        ?? throw new InvalidOperationException(OpenIddictResources.FormatID0098(descriptor.ServiceDescriptor.ServiceType));
}

/// <summary>
/// One handler of an event type, with the instances of its filters and of the handler itself where the container
/// holds them as singletons (the same instance every request's provider would return); null where they are scoped or
/// transient, which are resolved per event as OpenIddict does.
/// </summary>
internal sealed class IndexedHandler<TContext>(
    OpenIddictServerHandlerDescriptor descriptor,
    IOpenIddictServerHandler<TContext>? handler,
    IOpenIddictServerHandlerFilter<TContext>?[] filters)
    where TContext : BaseContext
{
    public OpenIddictServerHandlerDescriptor Descriptor => descriptor;

    public IOpenIddictServerHandler<TContext>? Handler => handler;

    public IOpenIddictServerHandlerFilter<TContext>?[] Filters => filters;
}

/// <summary>
/// The server's handlers grouped by context type, each group in OpenIddict's order (the options sort them once when
/// they are built). Kept for the options instance it was made from: new options make a new index.
/// </summary>
/// <param name="root">The root provider, for the services registered as singletons.</param>
/// <param name="isSingleton">
/// Whether the container's registration of a service type (the last one, the one Microsoft's container resolves) is a
/// singleton; <see cref="SingletonTypes"/> makes it from the finished service collection.
/// </param>
internal sealed class ServerHandlerIndex(IOptionsMonitor<OpenIddictServerOptions> options, IServiceProvider root, Func<Type, bool> isSingleton)
{
    private Snapshot? _snapshot;

    public IndexedHandler<TContext>[] For<TContext>() where TContext : BaseContext
    {
        var current = options.CurrentValue;
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is null || !ReferenceEquals(snapshot.Options, current))
        {
            snapshot = new Snapshot(current);
            Volatile.Write(ref _snapshot, snapshot);
        }

        return (IndexedHandler<TContext>[])snapshot.ByContext.GetOrAdd(
            typeof(TContext), static (_, state) => state.Index.Build<TContext>(state.Handlers), (Index: this, Handlers: current.Handlers));
    }

    private IndexedHandler<TContext>[] Build<TContext>(List<OpenIddictServerHandlerDescriptor> handlers) where TContext : BaseContext =>
    [
        .. handlers.Where(d => d.ContextType == typeof(TContext)).Select(d => new IndexedHandler<TContext>(
            d,
            d.ServiceDescriptor.ImplementationInstance as IOpenIddictServerHandler<TContext>
                ?? Singleton(d.ServiceDescriptor.ServiceType) as IOpenIddictServerHandler<TContext>,
            [.. d.FilterTypes.Select(type => Singleton(type) as IOpenIddictServerHandlerFilter<TContext>)])),
    ];

    // A singleton that cannot be made now is left to the per-event path, which fails (or not) exactly when and as
    // OpenIddict's dispatcher would, instead of failing every event of its type from here.
    private object? Singleton(Type type)
    {
        if (!isSingleton(type))
        {
            return null;
        }

        try
        {
            return root.GetService(type);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>
    /// The service types registered (last) as singletons in <paramref name="services"/>; keyed registrations do not
    /// count (<c>GetService(Type)</c> does not return them). Only for Microsoft's container, which resolves the last
    /// registration of a type and never changes a lifetime after the collection is built: when <paramref name="root"/>
    /// comes from any other container, nothing is kept.
    /// </summary>
    public static Func<Type, bool> SingletonTypes(IServiceCollection services, IServiceProvider root)
    {
        // Singleton factories get the root scope, an internal type of the same assembly as ServiceProvider.
        if (root.GetType().Assembly != typeof(ServiceProvider).Assembly)
        {
            return static _ => false;
        }

        var singletons = services.Where(d => !d.IsKeyedService).GroupBy(d => d.ServiceType)
            .Where(g => g.Last().Lifetime == ServiceLifetime.Singleton).Select(g => g.Key).ToHashSet();
        return singletons.Contains;
    }

    private sealed class Snapshot(OpenIddictServerOptions options)
    {
        public OpenIddictServerOptions Options => options;

        public ConcurrentDictionary<Type, object> ByContext { get; } = new();
    }
}

/// <summary>The dispatcher's debug lines, under OpenIddict's own dispatcher category and event ids.</summary>
internal static partial class DispatcherLog
{
    [LoggerMessage(6132, LogLevel.Debug, "An exception was thrown by {Handler} while handling the {Event} event.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string? handler, string? @event);

    [LoggerMessage(6133, LogLevel.Debug, "The event {Event} was successfully processed by {Handler}.")]
    public static partial void HandlerRan(ILogger logger, string? @event, string? handler);

    [LoggerMessage(6134, LogLevel.Debug, "The event {Event} was marked as handled by {Handler}.")]
    public static partial void Handled(ILogger logger, string? @event, string? handler);

    [LoggerMessage(6135, LogLevel.Debug, "The event {Event} was marked as skipped by {Handler}.")]
    public static partial void Skipped(ILogger logger, string? @event, string? handler);

    [LoggerMessage(6136, LogLevel.Debug, "The event {Event} was marked as rejected by {Handler}.")]
    public static partial void Rejected(ILogger logger, string? @event, string? handler);
}
