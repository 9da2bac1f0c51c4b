using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// SMTP's StartTls and SslOnConnect modes against a listener that speaks TLS with a self-signed certificate, trusted
/// through ScaiKey:Smtp:TrustedCertificate. Control: the same server without that trust gets no message (the
/// certificate is refused and the message waits with the reason).
/// </summary>
public sealed class SmtpTlsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Theory]
    [InlineData("StartTls", false)]
    [InlineData("SslOnConnect", true)]
    public async Task A_reset_email_is_delivered_over_tls_to_a_server_whose_certificate_is_trusted(string security, bool tlsOnConnect)
    {
        using var certificate = TestSmtpServer.SelfSignedCertificate();
        var certificateFile = Path.Combine(app.WorkFolder(), "smtp.pem");
        await File.WriteAllTextAsync(certificateFile, certificate.ExportCertificatePem());
        await using var smtp = new TestSmtpServer(IPAddress.Loopback, certificate, tlsOnConnect);

        // Control first: without the trust the certificate is refused, nothing arrives, the message waits.
        var untrusted = StartHost(smtp, security, null);
        var refusedEmail = await RequestResetAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string? lastError = null;
        while (DateTime.UtcNow < deadline && (lastError = await LastErrorAsync(refusedEmail)) is null)
        {
            await Task.Delay(50);
        }

        await app.StopHostAsync(untrusted);
        Assert.True(lastError is not null, "the untrusted send recorded no error");
        Assert.Empty(smtp.For(refusedEmail));

        var trusted = StartHost(smtp, security, certificateFile);
        try
        {
            var email = await RequestResetAsync();
            var mail = await smtp.WaitForAsync(email);
            Assert.Equal([email], mail.Recipients);
            Assert.True(smtp.TlsSessions >= 1, "no TLS session was completed");
        }
        finally
        {
            await app.StopHostAsync(trusted);
        }
    }

    private ScaiKeyHost StartHost(TestSmtpServer smtp, string security, string? trustedCertificate) => app.StartHost(b =>
    {
        b.UseSetting("ScaiKey:Smtp:Host", "localhost");
        b.UseSetting("ScaiKey:Smtp:Port", smtp.Port.ToString(CultureInfo.InvariantCulture));
        b.UseSetting("ScaiKey:Smtp:Security", security);
        b.UseSetting("ScaiKey:Smtp:PollSeconds", "0.05");
        b.UseSetting("ScaiKey:Smtp:RetryBaseSeconds", "0.05");
        b.UseSetting("ScaiKey:Smtp:RetryMaxSeconds", "0.2");
        if (trustedCertificate is not null)
        {
            b.UseSetting("ScaiKey:Smtp:TrustedCertificate", trustedCertificate);
        }
    });

    private async Task<string> RequestResetAsync()
    {
        var tenant = await app.CreateTenantAsync();
        var email = $"tls-{Guid.NewGuid():N}@example.com";
        var user = await app.CreateUserIdAsync(tenant, email, "Quartz-Lantern-93!");
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/password/reset", new { method = "EMAIL" })).ShouldBeAsync(200);
        return email;
    }

    private Task<string?> LastErrorAsync(string email) =>
        app.DbAsync(db => db.EmailOutbox.AsNoTracking().Where(m => m.ToAddress == email).Select(m => m.LastError).SingleOrDefaultAsync());
}
