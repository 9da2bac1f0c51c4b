using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// Which OpenIddict endpoint a request is for, found as OpenIddict's <see cref="OpenIddictServerHandlers.InferEndpointType"/>
/// finds it, without its cost: that handler builds an absolute URI for each configured endpoint, in a fixed order, on
/// every request (nine parses and combinations before it reaches the token endpoint), and its own comment invites
/// replacing it. Here the endpoints' absolute paths are worked out once per options instance, for endpoint addresses
/// that are plain relative paths (segments of letters, digits, '-', '_' and '.', none of them "." or ".."), which is what
/// ScaiKey and OpenIddict's defaults register (<c>.well-known/openid-configuration</c>); the request's
/// path is then compared as OpenIddict compares it: same scheme, host and port as the request's base address, path
/// equal ignoring case or differing by one trailing '/'. An address of any other form sends the request to OpenIddict's
/// own handler, so the answer is always OpenIddict's (<c>OpenIddictShortcutTests</c> asks both on the same requests).
/// </summary>
internal sealed class EndpointInference : IOpenIddictServerHandler<ProcessRequestContext>
{
    private static readonly OpenIddictServerHandlers.InferEndpointType OpenIddictHandler = new();

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<EndpointInference>()
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.BuiltIn)
            .Build();

    private Table? _table;

    /// <summary>Whether every endpoint address of <paramref name="options"/> is found here rather than by OpenIddict's handler.</summary>
    public static bool Covers(OpenIddictServerOptions options) => new Table(options).Endpoints is not null;

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var table = Volatile.Read(ref _table);
        if (table is null || !ReferenceEquals(table.Options, context.Options))
        {
            table = new Table(context.Options);
            Volatile.Write(ref _table, table);
        }

        if (table.Endpoints is null || context is not { BaseUri.IsAbsoluteUri: true, RequestUri.IsAbsoluteUri: true })
        {
            // Addresses this class does not reduce to paths, or a request OpenIddict refuses with its own error.
            return OpenIddictHandler.HandleAsync(context);
        }

        context.EndpointType = table.Find(context.BaseUri, context.RequestUri);
        if (context.EndpointType is not OpenIddictServerEndpointType.Unknown && context.Logger.IsEnabled(LogLevel.Information))
        {
            context.Logger.LogInformation("The request URI matched a server endpoint: {Endpoint}.", context.EndpointType);
        }

        return default;
    }

    private sealed class Table
    {
        public Table(OpenIddictServerOptions options)
        {
            Options = options;

            // OpenIddict's order: the first endpoint whose address matches wins.
            (IReadOnlyList<Uri> Uris, OpenIddictServerEndpointType Type)[] all =
            [
                (options.AuthorizationEndpointUris, OpenIddictServerEndpointType.Authorization),
                (options.ConfigurationEndpointUris, OpenIddictServerEndpointType.Configuration),
                (options.DeviceAuthorizationEndpointUris, OpenIddictServerEndpointType.DeviceAuthorization),
                (options.EndSessionEndpointUris, OpenIddictServerEndpointType.EndSession),
                (options.EndUserVerificationEndpointUris, OpenIddictServerEndpointType.EndUserVerification),
                (options.IntrospectionEndpointUris, OpenIddictServerEndpointType.Introspection),
                (options.JsonWebKeySetEndpointUris, OpenIddictServerEndpointType.JsonWebKeySet),
                (options.RevocationEndpointUris, OpenIddictServerEndpointType.Revocation),
                (options.TokenEndpointUris, OpenIddictServerEndpointType.Token),
                (options.UserInfoEndpointUris, OpenIddictServerEndpointType.UserInfo),
            ];
            // Any other kind of endpoint address the options know (pushed authorization, mTLS aliases, kinds a later
            // OpenIddict adds) leaves every request to OpenIddict's handler, which knows where they go in its order.
            if (HasOtherAddresses(options, all.Select(e => e.Uris)))
            {
                return;
            }

            var endpoints = new List<(string, OpenIddictServerEndpointType)>();
            foreach (var (uris, type) in all)
            {
                foreach (var uri in uris)
                {
                    // OpenIddict appends a relative address to the base address with a trailing '/'.
                    var path = uri.IsAbsoluteUri ? null : uri.OriginalString;
                    if (path is null || !IsPlain(path))
                    {
                        return;
                    }

                    endpoints.Add((path, type));
                }
            }

            Endpoints = [.. endpoints];
        }

        public OpenIddictServerOptions Options { get; }

        /// <summary>Each endpoint's address relative to the base address; null when one is not a plain relative path.</summary>
        public (string Path, OpenIddictServerEndpointType Type)[]? Endpoints { get; }

        public OpenIddictServerEndpointType Find(Uri baseUri, Uri requestUri)
        {
            if (!string.Equals(baseUri.Scheme, requestUri.Scheme, StringComparison.OrdinalIgnoreCase)
                || !string.Equals(baseUri.Host, requestUri.Host, StringComparison.OrdinalIgnoreCase)
                || baseUri.Port != requestUri.Port)
            {
                return OpenIddictServerEndpointType.Unknown;
            }

            // The base address as OpenIddict combines it: with a trailing '/'.
            var basePath = baseUri.AbsolutePath.AsSpan();
            var baseLength = basePath.Length + (basePath.EndsWith('/') ? 0 : 1);
            var path = requestUri.AbsolutePath.AsSpan();
            if (path.Length < baseLength || !path.StartsWith(basePath, StringComparison.OrdinalIgnoreCase)
                || (baseLength > basePath.Length && path[basePath.Length] != '/'))
            {
                return OpenIddictServerEndpointType.Unknown;
            }

            // A candidate never ends in '/' (IsPlain), so of OpenIddict's two trailing-slash cases only the request's is left.
            var rest = path[baseLength..];
            foreach (var (candidate, type) in Endpoints!)
            {
                if (rest.Equals(candidate, StringComparison.OrdinalIgnoreCase)
                    || (rest.Length == candidate.Length + 1 && rest[^1] == '/' && rest.StartsWith(candidate, StringComparison.OrdinalIgnoreCase)))
                {
                    return type;
                }
            }

            return OpenIddictServerEndpointType.Unknown;
        }

        private static bool HasOtherAddresses(OpenIddictServerOptions options, IEnumerable<IReadOnlyList<Uri>> known)
        {
            var handled = new HashSet<object>(known, ReferenceEqualityComparer.Instance);
            foreach (var property in typeof(OpenIddictServerOptions).GetProperties())
            {
                var value = property.GetValue(options);
                if (property.Name.EndsWith("EndpointUris", StringComparison.Ordinal) && value is IEnumerable<Uri> uris
                    && !handled.Contains(uris) && uris.Any())
                {
                    return true;
                }

                if (property.Name.Contains("Alias", StringComparison.Ordinal) && value is not null)
                {
                    return true;
                }
            }

            return false;
        }

        // Combined with a base address, such a path is appended as it is: no leading '/' (which OpenIddict resolves
        // from the host's root), no dot segment to remove, nothing to escape.
        private static bool IsPlain(string path) =>
            path.Split('/').All(segment => segment.Length > 0 && segment is not ("." or "..")
                && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
    }
}
