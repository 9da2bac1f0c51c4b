using System.Net;
using System.Text;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace ScaiKey.Api.Http;

/// <summary>
/// Top-level ScaiKey settings of the reverse proxies. TrustedProxies: the proxies (addresses or CIDR networks) whose
/// forwarding headers describe the client, given as a list (<c>ScaiKey__TrustedProxies__0=10.0.0.0/8</c>) or as one
/// comma-separated value (<c>ScaiKey__TrustedProxies=10.0.0.0/8,2001:db8::/32</c>); empty by default: nobody is
/// trusted. ForwardedHeaders: which one format they write, <c>XForwarded</c> (default: X-Forwarded-For, -Proto,
/// -Host) or <c>Forwarded</c> (RFC 7239). Only that one is honoured; the other is removed even from a trusted proxy,
/// because most proxies append to one and pass the other through as the client sent it, so honouring both would let
/// the client write its own address.
/// </summary>
internal sealed class ForwardingOptions
{
    public const string Section = "ScaiKey";
    public const string TrustedProxiesKey = "ScaiKey:TrustedProxies";
    public const string FormatKey = "ScaiKey:ForwardedHeaders";

    public List<string> TrustedProxies { get; set; } = [];

    public string ForwardedHeaders { get; set; } = "XForwarded";
}

internal sealed class ForwardingOptionsValidator : IValidateOptions<ForwardingOptions>
{
    public ValidateOptionsResult Validate(string? name, ForwardingOptions options)
    {
        var failures = options.TrustedProxies.Where(e => ProxyOptions.Parse(e) is null).Select(e =>
            $"{ForwardingOptions.TrustedProxiesKey}: '{e}' is not an IP address or a CIDR network (e.g. 10.0.0.5, 10.0.0.0/8, 2001:db8::/32). " +
            "A network's address must have no bits set beyond its prefix length.").ToList();
        if (ProxyOptions.IsRfc7239(options.ForwardedHeaders) is null)
        {
            failures.Add($"{ForwardingOptions.FormatKey} must be XForwarded or Forwarded, not '{options.ForwardedHeaders}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The trusted proxies as networks and the one header format honoured, from the validated <see cref="ForwardingOptions"/>.</summary>
internal sealed class ProxyOptions
{
    public IReadOnlyList<System.Net.IPNetwork> Networks { get; init; } = [];

    public bool Any => Networks.Count > 0;

    /// <summary>RFC 7239's Forwarded header rather than X-Forwarded-* (see <see cref="ForwardingOptions"/>).</summary>
    public bool Rfc7239 { get; init; }

    /// <summary>Whether this peer is a trusted proxy. An unknown peer (no address) never is.</summary>
    public bool IsTrusted(IPAddress? address) => Contains(Networks, address);

    /// <summary>Whether <paramref name="address"/> is in one of <paramref name="networks"/>; an unknown address (null) never is.</summary>
    public static bool Contains(IReadOnlyList<System.Net.IPNetwork> networks, IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; the configuration names them as IPv4.
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var network in networks)
        {
            if (network.Contains(normalized))
            {
                return true;
            }
        }

        return false;
    }

    public static ProxyOptions From(ForwardingOptions options) => new()
    {
        Networks = options.TrustedProxies.Select(e => Parse(e) ?? throw new InvalidOperationException($"{ForwardingOptions.TrustedProxiesKey}: '{e}'")).ToList(),
        Rfc7239 = IsRfc7239(options.ForwardedHeaders) ?? false,
    };

    /// <summary>Whether the format setting names RFC 7239; null when it names neither format.</summary>
    public static bool? IsRfc7239(string? format) => format?.Trim() switch
    {
        null or "" => false,
        var f when f.Equals("XForwarded", StringComparison.OrdinalIgnoreCase) => false,
        var f when f.Equals("Forwarded", StringComparison.OrdinalIgnoreCase) => true,
        _ => null,
    };

    public static System.Net.IPNetwork? Parse(string entry)
    {
        entry = entry.Trim();
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            // "10.0.0.1/8" is refused rather than read as 10.0.0.0/8: it is more likely a typo than a network.
            return System.Net.IPNetwork.TryParse(entry, out var network) && IPAddress.TryParse(entry.AsSpan(0, slash), out var given)
                && given.Equals(network.BaseAddress)
                ? Normalize(network)
                : null;
        }

        return IPAddress.TryParse(entry, out var address)
            ? Normalize(new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            : null;
    }

    // "::ffff:10.0.0.1" in the configuration means the IPv4 address, which is how peers are compared.
    private static System.Net.IPNetwork Normalize(System.Net.IPNetwork network) =>
        network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
            ? new System.Net.IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
            : network;
}

/// <summary>
/// The client's address, scheme and host behind reverse proxies, so that rate limits, sessions and audit events see
/// the client rather than the proxy, and the issuer-less URLs carry the public scheme and host. Forwarding headers
/// are honoured only from <see cref="ProxyOptions"/>' trusted peers, walking the chain from the right (the hop
/// nearest to this server) and stopping at the first address that is not a trusted proxy: everything left of it
/// was written by the client and proves nothing. X-Forwarded-For/-Proto/-Host go through ASP.NET Core's
/// ForwardedHeadersMiddleware; RFC 7239's <c>Forwarded</c> header, which it does not read, is handled here the
/// same way. When a trusted peer sends <c>Forwarded</c>, it wins and any X-Forwarded-* headers are dropped.
/// </summary>
internal static class ForwardedHeaders
{
    private const string ForwardedHeader = "Forwarded";
    private const string XForwardedFor = "X-Forwarded-For";
    private const string XForwardedProto = "X-Forwarded-Proto";
    private const string XForwardedHost = "X-Forwarded-Host";

    public static IServiceCollection AddScaiKeyForwardedHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ForwardingOptions>().BindConfiguration(ForwardingOptions.Section)
            .Configure(options =>
            {
                // One comma-separated value is a list too; the binder only reads the indexed form.
                if (configuration[ForwardingOptions.TrustedProxiesKey] is { Length: > 0 } single)
                {
                    options.TrustedProxies = single.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
                }
                else
                {
                    options.TrustedProxies = options.TrustedProxies.Select(e => e.Trim()).Where(e => e.Length > 0).ToList();
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ForwardingOptions>, ForwardingOptionsValidator>();
        services.AddSingleton(sp => ProxyOptions.From(sp.GetRequiredService<IOptions<ForwardingOptions>>().Value));
        services.AddOptions<ForwardedHeadersOptions>().Configure<ProxyOptions>((options, proxies) =>
        {
            options.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor
                | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto
                | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedHost;

            // The defaults trust loopback; here nothing is trusted unless configured.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
#pragma warning disable CS0618, ASPDEPR005
            options.KnownNetworks.Clear();
#pragma warning restore CS0618, ASPDEPR005
            foreach (var network in proxies.Networks)
            {
                options.KnownIPNetworks.Add(network);
            }

            // The walk stops at the first untrusted hop, so a chain of trusted proxies needs no fixed limit.
            options.ForwardLimit = null;
        });
        return services;
    }

    /// <summary>At the very start of the pipeline, before anything reads the address, scheme or host.</summary>
    public static IApplicationBuilder UseScaiKeyForwardedHeaders(this IApplicationBuilder app)
    {
        var proxies = app.ApplicationServices.GetRequiredService<ProxyOptions>();
        app.Use((http, next) =>
        {
            Apply(http, proxies);
            return next(http);
        });
        if (proxies.Any)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }

    private static void Apply(HttpContext http, ProxyOptions proxies)
    {
        var headers = http.Request.Headers;
        if (!headers.ContainsKey(ForwardedHeader) && !headers.ContainsKey(XForwardedFor)
            && !headers.ContainsKey(XForwardedProto) && !headers.ContainsKey(XForwardedHost))
        {
            return;
        }

        if (!proxies.IsTrusted(http.Connection.RemoteIpAddress))
        {
            // Not from a trusted proxy: gone, so nothing later can honour them by mistake. (ASP.NET Core's
            // middleware would otherwise trust the first hop of a connection without a remote address.)
            RemoveForwardingHeaders(headers);
            return;
        }

        if (!proxies.Rfc7239)
        {
            // X-Forwarded-* are the proxies' format: a Forwarded header came from the client, passed through.
            headers.Remove(ForwardedHeader);
            return;
        }

        if (headers[ForwardedHeader] is { Count: > 0 } forwarded && Parse(forwarded) is { } elements)
        {
            Walk(http, proxies, elements);
        }

        // Forwarded is the proxies' format: X-Forwarded-* came from the client and must not be applied after it.
        RemoveForwardingHeaders(headers);
    }

    private static void RemoveForwardingHeaders(IHeaderDictionary headers)
    {
        headers.Remove(ForwardedHeader);
        headers.Remove(XForwardedFor);
        headers.Remove(XForwardedProto);
        headers.Remove(XForwardedHost);
    }

    /// <summary>
    /// Right to left: each element was added by the proxy that received the request from its <c>for</c>. The
    /// nearest one is trusted (the caller checked the peer); the next one only if that <c>for</c> is a trusted proxy.
    /// </summary>
    private static void Walk(HttpContext http, ProxyOptions proxies, List<Dictionary<string, string>> elements)
    {
        var hop = http.Connection.RemoteIpAddress;
        for (var i = elements.Count - 1; i >= 0 && proxies.IsTrusted(hop); i--)
        {
            var element = elements[i];
            if (element.TryGetValue("proto", out var proto) && (proto.Equals("https", StringComparison.OrdinalIgnoreCase) || proto.Equals("http", StringComparison.OrdinalIgnoreCase)))
            {
                http.Request.Scheme = proto.ToLowerInvariant();
            }

            if (element.TryGetValue("host", out var host) && IsValidHost(host))
            {
                http.Request.Host = new HostString(host);
            }

            // "unknown", an obfuscated name ("_proxy1") or a missing for= end the walk: there is no address to go on with.
            if (!element.TryGetValue("for", out var node) || ParseNode(node) is not { } endpoint)
            {
                return;
            }

            http.Connection.RemoteIpAddress = endpoint.Address;
            http.Connection.RemotePort = endpoint.Port;
            hop = endpoint.Address;
        }
    }

    private static IPEndPoint? ParseNode(string node)
    {
        if (node.StartsWith('['))
        {
            // "[2001:db8::17]" or "[2001:db8::17]:4711"
            var close = node.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(node.AsSpan(1, close - 1), out var v6))
            {
                return null;
            }

            var rest = node.AsSpan(close + 1);
            return rest.Length == 0 ? new IPEndPoint(v6, 0)
                : rest[0] == ':' && ushort.TryParse(rest[1..], out var port6) ? new IPEndPoint(v6, port6) : null;
        }

        var colon = node.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return IPAddress.TryParse(node, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? new IPEndPoint(v4, 0) : null;
        }

        return node.IndexOf(':', colon + 1) < 0 && IPAddress.TryParse(node.AsSpan(0, colon), out var address)
            && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && ushort.TryParse(node.AsSpan(colon + 1), out var port)
            ? new IPEndPoint(address, port)
            : null;
    }

    // A host name or address with an optional port; nothing that could change the URL's shape.
    private static bool IsValidHost(string host) =>
        host.Length is > 0 and <= 255 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':' or '[' or ']');

    /// <summary>
    /// RFC 7239 section 4: elements separated by commas (also across repeated headers), pairs by semicolons, values
    /// tokens or quoted strings. Null when malformed: a header we cannot read is not applied at all.
    /// </summary>
    private static List<Dictionary<string, string>>? Parse(StringValues values)
    {
        var elements = new List<Dictionary<string, string>>();
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            var element = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var i = 0;
            while (true)
            {
                SkipSpaces(value, ref i);
                if (i >= value.Length)
                {
                    if (element.Count > 0)
                    {
                        elements.Add(element);
                    }

                    break;
                }

                var nameStart = i;
                while (i < value.Length && IsTokenChar(value[i]))
                {
                    i++;
                }

                if (i == nameStart || i >= value.Length || value[i] != '=')
                {
                    return null;
                }

                var name = value[nameStart..i];
                i++;
                string pairValue;
                if (i < value.Length && value[i] == '"')
                {
                    var text = new StringBuilder();
                    i++;
                    while (i < value.Length && value[i] != '"')
                    {
                        if (value[i] == '\\' && i + 1 < value.Length)
                        {
                            i++;
                        }

                        text.Append(value[i]);
                        i++;
                    }

                    if (i >= value.Length)
                    {
                        return null;
                    }

                    i++;
                    pairValue = text.ToString();
                }
                else
                {
                    var valueStart = i;
                    while (i < value.Length && IsTokenChar(value[i]))
                    {
                        i++;
                    }

                    pairValue = value[valueStart..i];
                }

                // A parameter given twice in one element is ambiguous (section 4): refuse the header.
                if (!element.TryAdd(name, pairValue))
                {
                    return null;
                }

                SkipSpaces(value, ref i);
                if (i < value.Length && value[i] == ';')
                {
                    i++;
                }
                else if (i < value.Length && value[i] == ',')
                {
                    elements.Add(element);
                    element = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    i++;
                }
                else if (i < value.Length)
                {
                    return null;
                }
            }
        }

        return elements.Count > 0 ? elements : null;
    }

    private static void SkipSpaces(string value, ref int i)
    {
        while (i < value.Length && value[i] is ' ' or '\t')
        {
            i++;
        }
    }

    // RFC 7230 tchar.
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
}
