using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The console calls ScaiKey's API over HTTP, so without this every console action would reach the API from the
/// server's own address: audit events would name 127.0.0.1 and all admins would share one address's abuse limits.
/// Each console call carries the admin's address in <see cref="Header"/>, signed with a key derived from the key
/// ring (so only a ScaiKey instance can mint one), bound to the call's method and Authorization header and valid for
/// a few seconds (the console's call is made at once): someone who saw one on the wire cannot reuse it on requests of
/// their own credentials to borrow the admin's address. The API takes it as the client's address when the signature
/// holds and drops the header otherwise. Forwarding headers are no substitute: they are honoured
/// only from configured proxies, and a console may call the API through a load balancer.
/// </summary>
internal sealed class ConsoleClientAddress(KeyRing keyRing, TimeProvider time)
{
    public const string Header = "X-ScaiKey-Console-Client";
    // Past: the call's time in flight and a busy server's queue; future: clock steps between instances.
    private static readonly TimeSpan PastWindow = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan FutureWindow = TimeSpan.FromSeconds(2);
    private readonly byte[] _key = keyRing.DeriveKey("scaikey:console:client-address");

    public string Sign(IPAddress address, string method, string? authorization)
    {
        var stamp = address + "|" + time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return stamp + "|" + Mac(Bound(stamp, method, authorization));
    }

    public IPAddress? Verify(string value, string method, string? authorization)
    {
        var last = value.LastIndexOf('|');
        if (last <= 0 || value.Length > 200)
        {
            return null;
        }

        var stamp = value[..last];
        var expected = Encoding.ASCII.GetBytes(Mac(Bound(stamp, method, authorization)));
        var given = Encoding.ASCII.GetBytes(value[(last + 1)..]);
        var parts = stamp.Split('|');
        if (!CryptographicOperations.FixedTimeEquals(expected, given) || parts.Length != 2
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || !IPAddress.TryParse(parts[0], out var address))
        {
            return null;
        }

        var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799L));
        return age > PastWindow || -age > FutureWindow ? null : address;
    }

    /// <summary>What the MAC covers besides the address and time: the method and a digest of the Authorization header.</summary>
    private static string Bound(string stamp, string method, string? authorization) =>
        stamp + "|" + method.ToUpperInvariant() + "|" + Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(authorization ?? string.Empty)));

    /// <summary>Right after the forwarding headers: everything later (limits, sessions, audit) sees the admin's address.</summary>
    public static void Use(IApplicationBuilder app) => app.Use((http, next) =>
    {
        var headers = http.Request.Headers;
        if (headers.TryGetValue(Header, out var values))
        {
            headers.Remove(Header);
            if (values.Count == 1 && http.RequestServices.GetRequiredService<ConsoleClientAddress>()
                .Verify(values[0]!, http.Request.Method, headers.Authorization.Count == 1 ? headers.Authorization[0] : null) is { } address)
            {
                http.Connection.RemoteIpAddress = address;
            }
        }

        return next(http);
    });

    private string Mac(string payload) => Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(payload)));
}

/// <summary>Adds the signed address of the admin whose page is being served to each of the console's API calls.</summary>
internal sealed class ConsoleClientAddressHandler(IHttpContextAccessor accessor, ConsoleClientAddress signer) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (accessor.HttpContext?.Connection.RemoteIpAddress is { } address)
        {
            request.Headers.TryAddWithoutValidation(ConsoleClientAddress.Header, signer.Sign(address, request.Method.Method, request.Headers.Authorization?.ToString()));
        }

        return base.SendAsync(request, cancellationToken);
    }
}
