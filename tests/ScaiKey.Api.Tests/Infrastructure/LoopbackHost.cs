using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// Another instance of the service on the fixture's database, on Kestrel at a loopback port, with that address as its
/// issuer: what the console needs (it calls the service's own API over the network, which the in-memory test server
/// cannot answer) and what a browser can reach.
/// </summary>
internal static class LoopbackHost
{
    public static (ScaiKeyHost Host, string BaseUrl) Start(ScaiKeyApp app, Action<IWebHostBuilder>? configure = null)
    {
        // The issuer must be known before the host starts: take a free port, then listen on it. A host name, not an
        // address: passkeys need one.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var baseUrl = $"http://localhost:{port}";
        var host = new ScaiKeyHost(app.Database, b =>
        {
            b.UseSetting("ScaiKey:Issuer", baseUrl + "/");
            configure?.Invoke(b);
        });
        host.UseKestrel(kestrel => kestrel.ListenLocalhost(port));
        host.StartServer();
        return (host, baseUrl);
    }
}
