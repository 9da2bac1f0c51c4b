using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ScaiKey.Api.Email;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;

namespace ScaiKey.Api.Health;

/// <summary>
/// What /readyz asks, through Microsoft.Extensions.Diagnostics.HealthChecks: the database answers, its schema has
/// every migration this build ships, the key ring seals and opens, and the email outbox is not stuck. The first
/// three make the instance unready (503): it could not sign anyone in. A stuck outbox only degrades it (200 with
/// "degraded"): sign-in works, mail waits, and an operator should look.
/// </summary>
internal static class HealthChecks
{
    public const string Ready = "ready";

    // A message due for this long without being sent means delivery is not keeping up or cannot reach the server.
    public static readonly TimeSpan OutboxStuckAfter = TimeSpan.FromMinutes(15);

    public static IServiceCollection AddScaiKeyHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database", HealthStatus.Unhealthy, [Ready])
            .AddCheck<MigrationsCheck>("migrations", HealthStatus.Unhealthy, [Ready])
            .AddCheck<KeyRingCheck>("key_ring", HealthStatus.Unhealthy, [Ready])
            .AddCheck<OutboxCheck>("outbox", HealthStatus.Degraded, [Ready]);
        return services;
    }

    private sealed class DatabaseCheck(ScaiKeyDbContext db) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
            await db.Database.CanConnectAsync(ct) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("database unreachable");
    }

    private sealed class MigrationsCheck(ScaiKeyDbContext db) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            return pending.Count == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) not applied, the first {pending[0]}");
        }
    }

    /// <summary>
    /// The key ring seals and opens, and opens what is stored: the newest live token key. A wrong
    /// ScaiKey:KeyEncryptionKey (another deployment's, or a typo of the right length) starts fine and seals and opens
    /// its own values, but every token and client-secret check then fails; this says so before traffic arrives. A
    /// database that cannot be read is the database check's to report.
    /// </summary>
    private sealed class KeyRingCheck(KeyRing keyRing, ScaiKeyDbContext db) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            var probe = Encoding.UTF8.GetBytes("scaikey health");
            if (!keyRing.Open(keyRing.Seal(probe, "scaikey:health"), "scaikey:health").AsSpan().SequenceEqual(probe))
            {
                return HealthCheckResult.Unhealthy("key ring cannot open what it sealed");
            }

            Data.Entities.SigningKey? stored;
            try
            {
                stored = await db.SigningKeys.AsNoTracking().Where(k => k.RetiredAt == null).OrderByDescending(k => k.CreatedAt).FirstOrDefaultAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return HealthCheckResult.Healthy("stored keys not read: the database check reports why");
            }

            try
            {
                _ = stored is null ? [] : keyRing.Open(stored.EncryptedKey, OAuth.SigningKeyStore.Context(stored.Id, stored.Use));
                return HealthCheckResult.Healthy();
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                return HealthCheckResult.Unhealthy(
                    "the key-encryption key does not open the stored token keys: is ScaiKey:KeyEncryptionKey the one this database was set up with?");
            }
        }
    }

    private sealed class OutboxCheck(ScaiKeyDbContext db, SmtpSettings smtp, TimeProvider time) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            if (!smtp.Enabled)
            {
                // Mail is meant to wait without an SMTP host (README): nothing is stuck.
                return HealthCheckResult.Healthy("email delivery is off");
            }

            var cutoff = time.UtcNow() - OutboxStuckAfter;
            var stuck = await db.EmailOutbox.AsNoTracking()
                .CountAsync(m => m.SentAt == null && m.FailedAt == null && (m.NextAttemptAt ?? m.CreatedAt) < cutoff, ct);
            return stuck == 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Degraded($"{stuck} message(s) due for more than {OutboxStuckAfter.TotalMinutes} minutes");
        }
    }
}
