using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Email;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Issue 13, point 11: SMTP security <c>Auto</c> never downgrades to plain SMTP across a network. TLS (STARTTLS
/// required, or TLS on connect on 465) unless the server is loopback; plain only there or with <c>None</c>.
/// </summary>
public sealed partial class EmailDeliveryTests
{
    [Theory]
    [InlineData("Auto", "smtp.example.com", 587, SecureSocketOptions.StartTls)]
    [InlineData("Auto", "smtp.example.com", 25, SecureSocketOptions.StartTls)]
    [InlineData("Auto", "smtp.example.com", 465, SecureSocketOptions.SslOnConnect)]
    [InlineData("Auto", "192.0.2.25", 25, SecureSocketOptions.StartTls)]
    [InlineData("Auto", "2001:db8::25", 25, SecureSocketOptions.StartTls)]
    [InlineData("Auto", "localhost.example.com", 25, SecureSocketOptions.StartTls)]
    [InlineData("Auto", "127.example.com", 25, SecureSocketOptions.StartTls)]
    [InlineData("Auto", "127.0.0.1", 25, SecureSocketOptions.Auto)]
    [InlineData("Auto", "127.8.9.10", 2525, SecureSocketOptions.Auto)]
    [InlineData("Auto", "::1", 25, SecureSocketOptions.Auto)]
    [InlineData("Auto", "[::1]", 25, SecureSocketOptions.Auto)]
    [InlineData("Auto", "LOCALHOST", 25, SecureSocketOptions.Auto)]
    [InlineData("Auto", "mail.localhost", 25, SecureSocketOptions.Auto)]
    [InlineData("None", "smtp.example.com", 25, SecureSocketOptions.None)]
    [InlineData("StartTls", "127.0.0.1", 25, SecureSocketOptions.StartTls)]
    [InlineData("SslOnConnect", "smtp.example.com", 465, SecureSocketOptions.SslOnConnect)]
    public void Auto_requires_tls_unless_the_server_is_loopback(string security, string host, int port, SecureSocketOptions expected) =>
        Assert.Equal(expected, SmtpSettings.Choose(Enum.Parse<SmtpSecurity>(security), host, port));

    [Fact]
    public async Task Auto_still_sends_to_a_plain_server_on_loopback()
    {
        await using var smtp = new TestSmtpServer();
        await using var host = StartDeliveringHost(smtp, ("ScaiKey:Smtp:Security", "Auto"));
        var email = $"auto-{Guid.NewGuid():N}@example.com";
        await app.CreateUserAsync((await CreateTenantAsync()).Id, new { email, send_welcome_email = true });

        Assert.Equal([email], (await smtp.WaitForAsync(email)).Recipients);
        await host.StopAsync();
    }

    [Fact]
    public async Task Auto_refuses_a_plain_server_on_a_network_address_and_none_sends_to_it()
    {
        // A plain server on this machine's network address: reached as another machine would be. (A machine
        // without one has only loopback, where the rule above is all there is to see.)
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        if (address is null)
        {
            Assert.Equal(SecureSocketOptions.StartTls, SmtpSettings.Choose(SmtpSecurity.Auto, "192.0.2.25", 25));
            return;
        }

        await using var smtp = new TestSmtpServer(address);
        var refused = $"tls-{Guid.NewGuid():N}@example.com";
        // Many attempts allowed, so a slow run cannot give the message up before the control below sends it, and
        // short back-offs, so a second refused attempt before this host stops cannot push the next one past the
        // control's wait (a loaded CI run once made two attempts and scheduled the third a minute later).
        await using (var host = StartDeliveringHost(smtp, ("ScaiKey:Smtp:Host", address.ToString()), ("ScaiKey:Smtp:Security", "Auto"),
            ("ScaiKey:Smtp:MaxAttempts", "1000"), ("ScaiKey:Smtp:RetryBaseSeconds", "1"), ("ScaiKey:Smtp:RetryMaxSeconds", "2")))
        {
            await app.CreateUserAsync((await CreateTenantAsync()).Id, new { email = refused, send_welcome_email = true });
            var row = Assert.Single(await WaitForRowsAsync([refused], m => m.LastError is not null));
            Assert.Contains("STARTTLS", row.LastError, StringComparison.Ordinal);
            Assert.Null(row.SentAt);
            await host.StopAsync();
        }

        Assert.Empty(smtp.Received);

        // Control: the same server with None (an explicit choice of plain SMTP) gets the message.
        await using var plain = StartDeliveringHost(smtp, ("ScaiKey:Smtp:Host", address.ToString()), ("ScaiKey:Smtp:Security", "None"));
        await WaitForRowsAsync([refused], m => m.SentAt is not null); // on a timeout, says what the row holds
        Assert.Equal([refused], (await smtp.WaitForAsync(refused)).Recipients);
        await plain.StopAsync();
    }
}
