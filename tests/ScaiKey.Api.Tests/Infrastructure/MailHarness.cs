using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A real SMTP listener and a second instance of the service on the test database that delivers the outbox to it,
/// so a test reads its mails as a user would and follows their links. Stopped when the test ends, even after a
/// failure: a sender left running would take later tests' messages to a closed port.
/// </summary>
public sealed partial class MailHarness : IAsyncDisposable
{
    private readonly ScaiKeyApp _app;
    private readonly ScaiKeyHost _host;

    private MailHarness(ScaiKeyApp app, TestSmtpServer smtp)
    {
        _app = app;
        Smtp = smtp;
        _host = app.StartHost(b =>
        {
            b.UseSetting("ScaiKey:Smtp:Host", "127.0.0.1");
            b.UseSetting("ScaiKey:Smtp:Port", smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.UseSetting("ScaiKey:Smtp:Security", "None");
            b.UseSetting("ScaiKey:Smtp:From", "ScaiKey Test <no-reply@scaikey-test.example>");
            b.UseSetting("ScaiKey:Smtp:PollSeconds", "0.05");
        });
    }

    public TestSmtpServer Smtp { get; }

    public static MailHarness Start(ScaiKeyApp app) => new(app, new TestSmtpServer());

    /// <summary>Waits for a message to <paramref name="recipient"/> whose subject contains <paramref name="subject"/>; the newest one.</summary>
    public async Task<ReceivedMail> WaitForAsync(string recipient, string subject, int count = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var matching = Smtp.For(recipient).Where(m => (m.Message.Subject ?? string.Empty).Contains(subject, StringComparison.OrdinalIgnoreCase)).ToList();
            if (matching.Count >= count)
            {
                return matching[^1];
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"no {count}. message '{subject}' for {recipient}; it got: {string.Join(", ", Smtp.For(recipient).Select(m => m.Message.Subject))}");
            await Task.Delay(50);
        }
    }

    public static string Body(ReceivedMail mail) => mail.Message.TextBody ?? throw new InvalidOperationException("the message has no text body");

    /// <summary>The one link with a token in the message.</summary>
    public static string Link(ReceivedMail mail)
    {
        var match = LinkPattern().Match(Body(mail));
        Assert.True(match.Success, "no link in the message:\n" + Body(mail));
        return match.Value;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopHostAsync(_host);
        await Smtp.DisposeAsync();
    }

    [GeneratedRegex(@"https?://\S+\?token=\S+")]
    private static partial Regex LinkPattern();
}
