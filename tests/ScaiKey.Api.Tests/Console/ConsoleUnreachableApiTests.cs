using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.AdminConsole;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The console reaches its API over HTTP; when that address is wrong (an operator's ScaiKey:Console:ApiBaseAddress,
/// a proxy that does not route the service to itself) the admin gets a page that says so, not a 500.
/// </summary>
public sealed class ConsoleUnreachableApiTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = ConsoleAppsHttpTests.Password;

    [Fact]
    public async Task A_console_whose_api_cannot_be_reached_says_so_at_the_callback_instead_of_failing_with_500()
    {
        var (tenantId, slug, email) = await ConsoleAppsHttpTests.TenantWithAdminAsync(app, "TENANT_ADMIN");

        // A loopback port nobody listens on: connections are refused at once.
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await using var console = new ConsoleInProcess(app, b =>
        {
            b.UseSetting("ScaiKey:Console:ApiBaseAddress", $"http://127.0.0.1:{port}/");
            b.ConfigureTestServices(services => services.AddHttpClient<ConsoleApi>().ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler()));
        });

        using var browser = console.Browser();
        var callback = await console.SignInResponseAsync(browser, slug, email, Password);
        var page = await ConsoleInProcess.PageAsync(callback, 502);
        Assert.Contains("could not reach ScaiKey&#x27;s API", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_the_same_sign_in_through_a_reachable_api_opens_the_console()
    {
        var (tenantId, slug, email) = await ConsoleAppsHttpTests.TenantWithAdminAsync(app, "TENANT_ADMIN");
        await using var console = new ConsoleInProcess(app);

        using var browser = await console.SignInAsync(slug, email, Password);
        await ConsoleInProcess.PageAsync(await browser.GetAsync($"/console/tenants/{tenantId}/users"), 200);
    }
}
