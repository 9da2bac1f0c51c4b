using System.ComponentModel;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;

namespace ScaiKey.Api.Audit;

[Description("One recorded change: who did what to which resource. changes lists field names only, never values.")]
internal sealed record AuditEventResponse(
    string Id, string? TenantId, string ActorType, string ActorId, string Action, string TargetType, string TargetId,
    IReadOnlyList<string> Changes, string? Reason, string? RequestId, string? IpAddress, DateTime CreatedAt);

/// <summary>/api/v1/tenants/{tenant_id}/audit-events, newest first.</summary>
internal static class AuditEndpoints
{
    private static readonly QueryParameter<string> Action = Query.NullableString("action", 64);
    private static readonly QueryParameter<string> TargetId = Query.NullableString("target_id", 200);
    private static readonly QueryParameter<string> ActorId = Query.NullableString("actor_id", 200);
    private static readonly QueryParameter<DateTime?> Since = Query.NullableDateTime("since", "Only events at or after this instant (ISO-8601)");

    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/audit-events", "Audit");
        group.MapGet("", ListAsync).Requires(Permission.AuditRead).WithSummary("List Audit Events")
            .WithQuery(Action, TargetId, ActorId, Since, PageRequest.PageParameter, PageRequest.PerPageParameter)
            .Returns<PaginatedResponse<AuditEventResponse>>().ReturnsProblems(404);
        return group;
    }

    private static async Task<IResult> ListAsync(HttpContext http, ScaiKeyDbContext db, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var action = Action.Read(http, errors);
        var targetId = TargetId.Read(http, errors);
        var actorId = ActorId.Read(http, errors);
        var since = Since.Read(http, errors);
        var paging = PageRequest.Read(http, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var tenantId = http.Tenant().Id;
        var events = db.AuditEvents.AsNoTracking().Where(e => e.TenantId == tenantId);
        if (action is not null)
        {
            events = events.Where(e => e.Action == action);
        }

        if (targetId is not null)
        {
            events = events.Where(e => e.TargetId == targetId);
        }

        if (actorId is not null)
        {
            events = events.Where(e => e.ActorId == actorId);
        }

        if (since is { } from)
        {
            events = events.Where(e => e.CreatedAt >= from);
        }

        var total = await events.CountAsync(ct);
        var rows = await events.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id)
            .Skip(paging.Offset).Take(paging.PerPage)
            .Select(e => new { e.Id, e.TenantId, e.ActorType, e.ActorId, e.Action, e.TargetType, e.TargetId, e.ChangesJson, e.Reason, e.RequestId, e.IpAddress, e.CreatedAt })
            .ToListAsync(ct);
        var items = rows.Select(e => new AuditEventResponse(e.Id, e.TenantId, e.ActorType, e.ActorId, e.Action, e.TargetType, e.TargetId,
            e.ChangesJson is null ? [] : JsonSerializer.Deserialize<List<string>>(e.ChangesJson) ?? [],
            e.Reason, e.RequestId, e.IpAddress, e.CreatedAt)).ToList();
        return TypedResults.Ok(Envelope.Page(http, items, paging, total));
    }
}
