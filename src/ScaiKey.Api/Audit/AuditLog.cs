using System.Text.Json;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Audit;

/// <summary>
/// Adds an audit event to the caller's unit of work, so it commits (or not) with the change it describes.
/// Only field names are recorded, never values.
/// </summary>
internal sealed class AuditLog(ScaiKeyDbContext db, Caller caller, IHttpContextAccessor accessor, TimeProvider time)
{
    public void Record(string action, string targetType, string targetId, string? tenantId, IEnumerable<string>? changedFields = null, string? reason = null) =>
        RecordAs(caller.PrincipalType, caller.PrincipalId, action, targetType, targetId, tenantId, changedFields, reason);

    /// <summary>For changes nobody authenticated made on purpose, such as a lockout after failed sign-ins.</summary>
    public void RecordAs(
        string actorType, string actorId, string action, string targetType, string targetId, string? tenantId,
        IEnumerable<string>? changedFields = null, string? reason = null)
    {
        var http = accessor.HttpContext;
        var fields = changedFields?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        db.AuditEvents.Add(new AuditEvent
        {
            Id = Ids.New(),
            TenantId = tenantId,
            ActorType = actorType,
            ActorId = actorId,
            Action = action,
            TargetType = targetType,
            TargetId = targetId,
            ChangesJson = fields is { Count: > 0 } ? JsonSerializer.Serialize(fields) : null,
            Reason = reason,
            RequestId = http?.TraceIdentifier,
            IpAddress = http?.Connection.RemoteIpAddress?.ToString(),
            CreatedAt = time.UtcNow(),
        });
    }
}
