using ScaiKey.Api.Infrastructure;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Email;

/// <summary>
/// Emails are written to an outbox table in the same transaction as the change that causes them, so a rolled
/// back change sends nothing and a committed one is never lost. Delivery over SMTP drains the table.
/// </summary>
internal sealed class EmailOutbox(ScaiKeyDbContext db, TimeProvider time)
{
    public void Enqueue(string? tenantId, string to, string kind, string subject, string body) =>
        db.EmailOutbox.Add(new EmailOutboxMessage
        {
            Id = Ids.New(),
            TenantId = tenantId,
            ToAddress = to,
            Kind = kind,
            Subject = subject,
            Body = body,
            CreatedAt = time.UtcNow(),
        });
}
