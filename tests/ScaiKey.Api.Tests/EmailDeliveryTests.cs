using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using ScaiKey.Api.Security;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The outbox is delivered over real SMTP (a loopback server speaking RFC 5321 to MailKit): the right recipient
/// gets a link that works, failures are retried without loss, two instances never send one message twice, and
/// neither the SMTP password nor a link reaches the log.
/// </summary>
public sealed partial class EmailDeliveryTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string SmtpUser = "scaikey-mailer";
    private const string SmtpPassword = "Smtp-Relay-Secret-5150";
    private const string From = "ScaiKey Test <no-reply@scaikey-test.example>";

    [Fact]
    public async Task A_reset_email_reaches_the_user_with_a_working_link()
    {
        await using var smtp = new TestSmtpServer();
        await using var host = StartDeliveringHost(smtp);
        var (tenant, slug) = await CreateTenantAsync();
        var email = $"reset-{Guid.NewGuid():N}@example.com";
        var user = await app.CreateUserIdAsync(tenant, email, "Quartz-Lantern-93!");
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/password/reset", new { method = "EMAIL" })).ShouldBeAsync(200);

        var mail = await smtp.WaitForAsync(email);
        Assert.Equal([email], mail.Recipients);
        Assert.Equal("no-reply@scaikey-test.example", mail.MailFrom);
        Assert.Equal(email, Assert.Single(mail.Message.To.Mailboxes).Address);
        Assert.Contains("password", mail.Message.Subject, StringComparison.OrdinalIgnoreCase);
        var link = Link(mail);
        Assert.StartsWith($"http://localhost/t/{slug}/reset-password?token=", link, StringComparison.Ordinal);
        await AssertLinkWorksAsync(link, user, "PASSWORD_RESET");

        // The listener has the message a moment before the sender records it as sent.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        EmailOutboxMessage row;
        while ((row = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == email && m.Kind == "password_reset"))).SentAt is null
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.NotNull(row.SentAt);
        Assert.Equal(1, row.Attempts);
        Assert.Null(row.ClaimedUntil);
        Assert.Null(row.LastError);
        await host.StopAsync();
    }

    [Fact]
    public async Task An_invitation_reaches_the_user_with_a_working_link()
    {
        await using var smtp = new TestSmtpServer();
        await using var host = StartDeliveringHost(smtp);
        var (tenant, slug) = await CreateTenantAsync();
        var email = $"invited-{Guid.NewGuid():N}@example.com";
        var user = (await app.CreateUserAsync(tenant, new { email, send_welcome_email = true }))["id"]!.GetValue<string>();

        var mail = await smtp.WaitForAsync(email);
        Assert.Equal([email], mail.Recipients);
        Assert.Contains("invited", mail.Message.Subject, StringComparison.OrdinalIgnoreCase);
        var link = Link(mail);
        Assert.StartsWith($"http://localhost/t/{slug}/accept-invitation?token=", link, StringComparison.Ordinal);
        await AssertLinkWorksAsync(link, user, "INVITATION");
        await host.StopAsync();
    }

    [Fact]
    public async Task A_failing_server_is_retried_and_nothing_is_lost()
    {
        await using var smtp = new TestSmtpServer();
        smtp.RefuseAll();
        await using var host = StartDeliveringHost(smtp, ("ScaiKey:Smtp:MaxAttempts", "50"));
        var tenant = (await CreateTenantAsync()).Id;
        var emails = Enumerable.Range(0, 3).Select(i => $"retry{i}-{Guid.NewGuid():N}@example.com").ToList();
        foreach (var email in emails)
        {
            await app.CreateUserAsync(tenant, new { email, send_welcome_email = true });
        }

        // While the server refuses, every message is kept with its error and a time for the next attempt.
        var failing = await WaitForRowsAsync(emails, m => m.Attempts >= 2 && m.LastError != null);
        Assert.All(failing, m =>
        {
            Assert.Null(m.SentAt);
            Assert.Null(m.FailedAt);
            Assert.Contains("451", m.LastError, StringComparison.Ordinal);
        });
        Assert.DoesNotContain(smtp.Received, m => emails.Contains(m.Recipients[0]));

        smtp.RefuseNext(0);
        var sent = await WaitForRowsAsync(emails, m => m.SentAt != null);
        await host.StopAsync();
        foreach (var email in emails)
        {
            Assert.Single(smtp.For(email));
        }

        Assert.All(sent, m =>
        {
            Assert.True(m.Attempts >= 2, $"attempts {m.Attempts}"); // refused at least once, then sent
            Assert.Null(m.LastError);
            Assert.Null(m.NextAttemptAt);
            Assert.Null(m.FailedAt);
        });
    }

    [Fact]
    public async Task A_message_is_given_up_after_the_attempt_limit_and_kept()
    {
        await using var smtp = new TestSmtpServer();
        smtp.RefuseAll();
        await using var host = StartDeliveringHost(smtp, ("ScaiKey:Smtp:MaxAttempts", "2"));
        var email = $"limit-{Guid.NewGuid():N}@example.com";
        await app.CreateUserAsync((await CreateTenantAsync()).Id, new { email, send_welcome_email = true });

        var failed = Assert.Single(await WaitForRowsAsync([email], m => m.FailedAt != null));
        await host.StopAsync();
        Assert.Equal(2, failed.Attempts);
        Assert.Null(failed.SentAt);
        Assert.Null(failed.NextAttemptAt);
        Assert.Contains("451", failed.LastError, StringComparison.Ordinal);
        Assert.Empty(smtp.For(email));
    }

    [Fact]
    public async Task Two_instances_on_one_database_send_each_message_once()
    {
        // Queue first, then start both senders together, so both find the same due messages and race for them.
        var tenant = (await CreateTenantAsync()).Id;
        var emails = Enumerable.Range(0, 24).Select(i => $"once{i}-{Guid.NewGuid():N}@example.com").ToList();
        foreach (var email in emails)
        {
            await app.CreateUserAsync(tenant, new { email, send_welcome_email = true });
        }

        await using var smtp = new TestSmtpServer();
        await using var first = StartDeliveringHost(smtp, ("ScaiKey:Smtp:BatchSize", "3"));
        await using var second = StartDeliveringHost(smtp, ("ScaiKey:Smtp:BatchSize", "3"));
        await WaitForRowsAsync(emails, m => m.SentAt != null);

        // Stopping waits for sends in flight, so a late duplicate would be counted below.
        await Task.WhenAll(first.StopAsync(), second.StopAsync());
        foreach (var email in emails)
        {
            Assert.Single(smtp.For(email));
        }

        var rows = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().Where(m => emails.Contains(m.ToAddress)).ToListAsync());
        Assert.All(rows, m => Assert.Equal(1, m.Attempts));
    }

    [Fact]
    public async Task Neither_the_smtp_password_nor_the_link_reaches_the_log()
    {
        await using var smtp = new TestSmtpServer();
        var capture = new LogCapture();
        await using var host = StartDeliveringHost(smtp, configure: b =>
        {
            b.UseSetting("ScaiKey:Smtp:Username", SmtpUser);
            b.UseSetting("ScaiKey:Smtp:Password", SmtpPassword);
            b.UseSetting("Logging:LogLevel:Default", "Trace");
            b.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Trace");
            b.ConfigureLogging(logging => logging.ClearProviders().AddProvider(capture));
        });
        var tenant = (await CreateTenantAsync()).Id;
        var email = $"hygiene-{Guid.NewGuid():N}@example.com";
        var user = await app.CreateUserIdAsync(tenant, email, "Quartz-Lantern-93!");
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/password/reset", new { method = "EMAIL" })).ShouldBeAsync(200);

        var mail = await smtp.WaitForAsync(email);
        await host.StopAsync();
        Assert.Contains((SmtpUser, SmtpPassword), smtp.Logins); // the password was really used
        var link = Link(mail);
        var token = link[(link.IndexOf("token=", StringComparison.Ordinal) + "token=".Length)..];

        var logged = capture.Text;
        Assert.Contains("Email delivery to 127.0.0.1", logged, StringComparison.Ordinal); // the capture works at all
        foreach (var secret in new[] { SmtpPassword, token, link, Uri.EscapeDataString(token), Body(mail).Trim() })
        {
            Assert.DoesNotContain(secret, logged, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_a_host_delivery_is_off_and_says_so_once()
    {
        var capture = new LogCapture();
        var host = app.StartHost(b =>
        {
            b.UseSetting("Logging:LogLevel:Default", "Information");
            b.ConfigureLogging(logging => logging.ClearProviders().AddProvider(capture));
        });
        await app.StopHostAsync(host);
        Assert.Single(capture.Lines, line => line.Contains("Email delivery is off", StringComparison.Ordinal));
    }

    private DeliveringHost StartDeliveringHost(TestSmtpServer smtp, params (string Key, string Value)[] settings) =>
        StartDeliveringHost(smtp, null, settings);

    private DeliveringHost StartDeliveringHost(TestSmtpServer smtp, Action<IWebHostBuilder>? configure, params (string Key, string Value)[] settings) =>
        new(app, app.StartHost(b =>
        {
            b.UseSetting("ScaiKey:Smtp:Host", "127.0.0.1");
            b.UseSetting("ScaiKey:Smtp:Port", smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.UseSetting("ScaiKey:Smtp:Security", "None");
            b.UseSetting("ScaiKey:Smtp:From", From);
            b.UseSetting("ScaiKey:Smtp:PollSeconds", "0.05");
            b.UseSetting("ScaiKey:Smtp:RetryBaseSeconds", "0.05");
            b.UseSetting("ScaiKey:Smtp:RetryMaxSeconds", "0.2");
            foreach (var (key, value) in settings)
            {
                b.UseSetting(key, value);
            }

            configure?.Invoke(b);
        }));

    private async Task<(string Id, string Slug)> CreateTenantAsync()
    {
        var id = await app.CreateTenantAsync();
        var slug = await app.DbAsync(db => db.Tenants.Where(t => t.Id == id).Select(t => t.Slug).SingleAsync());
        return (id, slug);
    }

    /// <summary>Waits until every address's message satisfies <paramref name="done"/>, then returns the rows.</summary>
    private async Task<List<EmailOutboxMessage>> WaitForRowsAsync(IReadOnlyCollection<string> emails, Func<EmailOutboxMessage, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var rows = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().Where(m => emails.Contains(m.ToAddress)).ToListAsync());
            if (rows.Count == emails.Count && rows.All(done))
            {
                return rows;
            }

            Assert.True(DateTime.UtcNow < deadline, "outbox rows did not reach the expected state:\n" + string.Join('\n',
                rows.Select(m => $"{m.ToAddress} attempts={m.Attempts} sent={m.SentAt} failed={m.FailedAt} next={m.NextAttemptAt} error={m.LastError}")));
            await Task.Delay(50);
        }
    }

    /// <summary>The link is live: its token is a stored, unused action token of the user, and the page opens.</summary>
    private async Task AssertLinkWorksAsync(string link, string userId, string purpose)
    {
        var token = Uri.UnescapeDataString(link[(link.IndexOf("token=", StringComparison.Ordinal) + "token=".Length)..]);
        var stored = await app.DbAsync(db => db.UserActionTokens.AsNoTracking()
            .SingleAsync(t => t.UserId == userId && t.Purpose == purpose && t.UsedAt == null));
        Assert.Equal(SecretGenerator.Sha256Hex(token), stored.TokenHash);

        using var browser = app.Anonymous();
        await (await browser.GetAsync(link)).ShouldBeAsync(200);
        await (await browser.GetAsync(link[..^4] + "AAAA")).ShouldBeAsync(400); // control: one changed token
    }

    private static string Link(ReceivedMail mail)
    {
        var match = LinkPattern().Match(Body(mail));
        Assert.True(match.Success, "no link in the message");
        return match.Value;
    }

    private static string Body(ReceivedMail mail) => mail.Message.TextBody ?? throw new InvalidOperationException("the message has no text body");

    [GeneratedRegex(@"https?://\S+\?token=\S+")]
    private static partial Regex LinkPattern();

    /// <summary>
    /// A host that sends to the test server, stopped when the test ends even if it failed: a sender left running
    /// would take later tests' messages to a closed port. Stopping waits for sends in flight.
    /// </summary>
    private sealed class DeliveringHost(ScaiKeyApp app, ScaiKeyHost host) : IAsyncDisposable
    {
        private bool _stopped;

        public async Task StopAsync()
        {
            if (!_stopped)
            {
                _stopped = true;
                await app.StopHostAsync(host);
            }
        }

        public async ValueTask DisposeAsync() => await StopAsync();
    }

    private sealed class LogCapture : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public string Text => string.Join('\n', _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                lines.Enqueue("scope: " + state);
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category}[{logLevel}]: {formatter(state, exception)} {exception}");
        }
    }
}
