using MailKit;
using MailKit.Net.Smtp;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Email;

/// <summary>
/// Drains email_outbox over SMTP. Safe with several instances on one database: a message is sent only by the
/// instance whose conditional UPDATE claimed it (claimed_until in the future, attempts + 1), and the claim lasts
/// far longer than a send. Failures wait with exponential backoff; after MaxAttempts the message is marked failed
/// and kept for the operator. Bodies, links and the SMTP password are never logged; last_error holds the SMTP
/// reply or the exception type and message, which carry none of them.
/// </summary>
internal sealed class OutboxDelivery(
    IServiceScopeFactory scopes,
    SmtpSettings settings,
    KeyRing keyRing,
    TimeProvider time,
    ILogger<OutboxDelivery> logger) : BackgroundService
{
    private const int LastErrorLength = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.Enabled)
        {
            logger.LogInformation("Email delivery is off (ScaiKey:Smtp:Host is empty): messages stay queued in email_outbox.");
            return;
        }

        logger.LogInformation("Email delivery to {Host}:{Port} ({Security}: {SocketOptions}) from {From}, polling every {Poll}",
            settings.Host, settings.Port, settings.Security, settings.SocketOptions, settings.From.Address, settings.Poll);
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                // A full batch means more may be waiting: go again at once instead of after the poll interval.
                busy = await DeliverDueAsync(stoppingToken) >= settings.BatchSize;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The database may be briefly away; the messages wait in the table, so try again next round.
                logger.LogWarning("Email delivery round failed: {Error}", Describe(exception));
            }

            if (!busy)
            {
                try
                {
                    await Task.Delay(settings.Poll, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round: messages due now, oldest first, each claimed then sent. Returns how many were claimed.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var now = time.UtcNow();
        var due = await Due(db.EmailOutbox.AsNoTracking(), now)
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)
            .Take(settings.BatchSize)
            .Select(m => m.Id)
            .ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        SmtpClient? client = null;
        var claimed = 0;
        try
        {
            foreach (var id in due)
            {
                var message = await ClaimAsync(db, id, cancellationToken);
                if (message is null)
                {
                    continue; // another instance has it, or it changed since the query
                }

                claimed++;
                MimeMessage mail;
                try
                {
                    mail = Compose(message);
                }
                catch (ParseException exception)
                {
                    // An address MIME cannot carry stays that way: give up now rather than over hours of retries.
                    await RecordFailureAsync(db, message, exception, permanent: true, cancellationToken);
                    continue;
                }

                try
                {
                    client ??= await ConnectAsync(cancellationToken);
                    await client.SendAsync(mail, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Stopping mid-send: give the claim back, or no instance could retry the message for the claim's
                    // whole lease (minutes) after this one stopped.
                    await db.EmailOutbox.Where(m => m.Id == message.Id && m.SentAt == null)
                        .ExecuteUpdateAsync(s => s.SetProperty(m => m.ClaimedUntil, (DateTime?)null), CancellationToken.None);
                    throw;
                }
                catch (Exception exception)
                {
                    // Written even while stopping (like a success below): a claim left behind would hold the message.
                    await RecordFailureAsync(db, message, exception, IsPermanent(exception), CancellationToken.None);

                    // A refusal leaves the session usable; anything else (network, TLS, login) ends this round.
                    if (exception is SmtpCommandException && client is { IsConnected: true })
                    {
                        continue;
                    }

                    break;
                }

                await db.EmailOutbox.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.SentAt, time.UtcNow())
                    .SetProperty(m => m.ClaimedUntil, (DateTime?)null)
                    .SetProperty(m => m.NextAttemptAt, (DateTime?)null)
                    .SetProperty(m => m.LastError, (string?)null), CancellationToken.None);
                logger.LogDebug("Email {MessageId} ({Kind}) sent on attempt {Attempt}", message.Id, message.Kind, message.Attempts);
            }
        }
        finally
        {
            if (client is not null)
            {
                await DisconnectQuietlyAsync(client);
            }
        }

        return claimed;
    }

    private static IQueryable<EmailOutboxMessage> Due(IQueryable<EmailOutboxMessage> messages, DateTime now) =>
        messages.Where(m => m.SentAt == null && m.FailedAt == null
            && (m.NextAttemptAt == null || m.NextAttemptAt <= now)
            && (m.ClaimedUntil == null || m.ClaimedUntil < now));

    /// <summary>
    /// The conditional UPDATE is the lock: of several instances running it for one row, exactly one changes it
    /// (PostgreSQL re-checks the condition after waiting for the row; SQLite runs one writer at a time).
    /// </summary>
    private async Task<EmailOutboxMessage?> ClaimAsync(ScaiKeyDbContext db, string id, CancellationToken cancellationToken)
    {
        var now = time.UtcNow();
        var until = now + settings.ClaimLease;
        var won = await Due(db.EmailOutbox.Where(m => m.Id == id), now).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.ClaimedUntil, until)
            .SetProperty(m => m.Attempts, m => m.Attempts + 1), cancellationToken);
        return won == 1 ? await db.EmailOutbox.AsNoTracking().SingleAsync(m => m.Id == id, cancellationToken) : null;
    }

    private async Task RecordFailureAsync(
        ScaiKeyDbContext db, EmailOutboxMessage message, Exception exception, bool permanent, CancellationToken cancellationToken)
    {
        var error = Describe(exception);
        var now = time.UtcNow();
        var giveUp = permanent || message.Attempts >= settings.MaxAttempts;
        var next = now + settings.RetryDelay(message.Attempts);
        await db.EmailOutbox.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.ClaimedUntil, (DateTime?)null)
            .SetProperty(m => m.LastError, error)
            .SetProperty(m => m.FailedAt, giveUp ? now : null)
            .SetProperty(m => m.NextAttemptAt, giveUp ? null : next), cancellationToken);

        if (giveUp)
        {
            logger.LogError("Email {MessageId} ({Kind}) given up after attempt {Attempt}: {Error}", message.Id, message.Kind, message.Attempts, error);
        }
        else
        {
            logger.LogWarning("Email {MessageId} ({Kind}) attempt {Attempt} failed, next at {NextAttempt:O}: {Error}",
                message.Id, message.Kind, message.Attempts, next, error);
        }
    }

    private async Task<SmtpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var client = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
        if (settings.TrustedCertificate is not null)
        {
            client.ServerCertificateValidationCallback = (_, certificate, _, errors) => settings.AcceptServerCertificate(certificate, errors);
        }

        try
        {
            await client.ConnectAsync(settings.Host!, settings.Port, settings.SocketOptions, cancellationToken);
            if (!string.IsNullOrEmpty(settings.Username))
            {
                await client.AuthenticateAsync(settings.Username, settings.Password ?? string.Empty, cancellationToken);
            }

            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task DisconnectQuietlyAsync(SmtpClient client)
    {
        try
        {
            if (client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.DisconnectAsync(quit: true, timeout.Token);
            }
        }
        catch (Exception)
        {
            // QUIT is a courtesy; the messages are already recorded.
        }
        finally
        {
            client.Dispose();
        }
    }

    private MimeMessage Compose(EmailOutboxMessage message)
    {
        var mail = new MimeMessage();
        mail.From.Add(settings.From);
        mail.To.Add(MailboxAddress.Parse(message.ToAddress));
        mail.Subject = message.Subject;

        // The outbox id makes the Message-Id, so a receiver can drop the copy a rare retry-after-success sends again.
        var domain = settings.From.Domain is { Length: > 0 } d ? d : "scaikey.localhost";
        mail.MessageId = message.Id + "@" + domain;
        mail.Body = new TextPart("plain") { Text = EmailOutbox.Open(keyRing, message) };
        return mail;
    }

    /// <summary>Refusals a retry cannot fix: a 5xx for the sender, the recipient or the message.</summary>
    private static bool IsPermanent(Exception exception) =>
        exception is SmtpCommandException { StatusCode: >= (SmtpStatusCode)500 } command
        && command.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.SenderNotAccepted or SmtpErrorCode.MessageNotAccepted;

    private static string Describe(Exception exception)
    {
        var text = exception switch
        {
            SmtpCommandException command => $"SMTP {(int)command.StatusCode} ({command.ErrorCode}): {command.Message}",
            SmtpProtocolException or ServiceNotConnectedException or ServiceNotAuthenticatedException => $"SMTP: {exception.Message}",
            _ => $"{exception.GetType().Name}: {exception.Message}",
        };
        return text.Length <= LastErrorLength ? text : text[..LastErrorLength];
    }
}

internal static class EmailDeliverySetup
{
    /// <summary>The SMTP settings and the background sender (which only logs that it is off when no host is set).</summary>
    public static IServiceCollection AddScaiKeyEmailDelivery(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        services.AddSingleton(sp => SmtpSettings.FromOptions(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SmtpOptions>>().Value));
        services.AddHostedService<OutboxDelivery>();
        return services;
    }
}
