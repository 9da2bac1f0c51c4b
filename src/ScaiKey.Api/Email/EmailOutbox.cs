using System.Text;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Email;

/// <summary>
/// Emails are written to an outbox table in the same transaction as the change that causes them, so a rolled
/// back change sends nothing and a committed one is never lost. Bodies carry live links (invitations, resets),
/// so they are sealed under the key ring: a database dump alone cannot take over a pending account.
/// </summary>
internal sealed class EmailOutbox(ScaiKeyDbContext db, TimeProvider time, KeyRing keyRing)
{
    public void Enqueue(string? tenantId, string to, string kind, string subject, string body)
    {
        var id = Ids.New();
        db.EmailOutbox.Add(new EmailOutboxMessage
        {
            Id = id,
            TenantId = tenantId,
            ToAddress = to,
            Kind = kind,
            Subject = subject,
            Body = keyRing.Seal(Encoding.UTF8.GetBytes(body), Context(id)),
            CreatedAt = time.UtcNow(),
        });
    }

    /// <summary>The plain body, for the sender.</summary>
    public static string Open(KeyRing keyRing, EmailOutboxMessage message) =>
        Encoding.UTF8.GetString(keyRing.Open(message.Body, Context(message.Id)));

    private static string Context(string id) => "scaikey:outbox:" + id;
}
