using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// TestServer leaves HttpContext.Connection.RemoteIpAddress unset (there is no socket). Hosts started with
/// <see cref="Use"/> take the peer address from the <see cref="Header"/> request header instead, set before the
/// app's own pipeline runs, as Kestrel would set it from the connection; the header itself is removed.
/// </summary>
public sealed class TestPeer : IStartupFilter
{
    public const string Header = "X-Test-Peer";

    public static void Use(IWebHostBuilder builder) =>
        builder.ConfigureServices(services => services.AddTransient<IStartupFilter, TestPeer>());

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, following) =>
        {
            if (http.Request.Headers.TryGetValue(Header, out var value) && IPAddress.TryParse(value.ToString(), out var address))
            {
                http.Connection.RemoteIpAddress = address;
                http.Request.Headers.Remove(Header);
            }

            return following(http);
        });
        next(app);
    };
}
