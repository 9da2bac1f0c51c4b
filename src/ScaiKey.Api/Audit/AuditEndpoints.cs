using System.ComponentModel;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Authorization;
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

    /// <summary>
    /// /api/v1/admin/audit-events: the whole trail for platform admins, including events outside any tenant
    /// (partners, admin clients, platform and partner role assignments).
    /// </summary>
    public static RouteGroupBuilder MapAdminAudit(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/audit-events").WithTags("Audit").RequireAuthorization(ScaiKeyPolicies.Platform).ValidatesInput();
        group.MapGet("", ListAllAsync).WithSummary("List All Audit Events")
            .WithQuery(TenantFilter, Action, TargetId, ActorId, Since, PageRequest.PageParameter, PageRequest.PerPageParameter)
            .Returns<PaginatedResponse<AuditEventResponse>>();
        return group;
    }

    private static readonly QueryParameter<string> TenantFilter = Query.NullableString("tenant_id", 64, "Only events of this tenant");

    internal sealed record EventsQuery(string? Action, string? TargetId, string? ActorId, DateTime? Since, PageRequest Paging) : QueryInput
    {
        public static ValueTask<EventsQuery?> BindAsync(HttpContext http) => BindAsync(http, Read);

        public static EventsQuery Read(HttpContext http, ValidationErrors errors) => new(
            AuditEndpoints.Action.Read(http, errors), AuditEndpoints.TargetId.Read(http, errors), AuditEndpoints.ActorId.Read(http, errors),
            AuditEndpoints.Since.Read(http, errors), PageRequest.Read(http, errors));
    }

    /// <summary>The platform's list reads tenant_id first, so a 422 lists it first.</summary>
    internal sealed record AllEventsQuery(string? TenantId, EventsQuery Events) : QueryInput
    {
        public static ValueTask<AllEventsQuery?> BindAsync(HttpContext http) =>
            BindAsync(http, static (h, errors) => new AllEventsQuery(TenantFilter.Read(h, errors), EventsQuery.Read(h, errors)));
    }

    private static Task<IResult> ListAsync(EventsQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        return PageAsync(http, db.AuditEvents.AsNoTracking().Where(e => e.TenantId == tenantId), query, ct);
    }

    private static Task<IResult> ListAllAsync(AllEventsQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var events = db.AuditEvents.AsNoTracking();
        if (query.TenantId is { } tenantId)
        {
            events = events.Where(e => e.TenantId == tenantId);
        }

        return PageAsync(http, events, query.Events, ct);
    }

    private static async Task<IResult> PageAsync(
        HttpContext http, IQueryable<Data.Entities.AuditEvent> events, EventsQuery query, CancellationToken ct)
    {
        var (action, targetId, actorId, since, paging) = (query.Action, query.TargetId, query.ActorId, query.Since, query.Paging);
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

        return TypedResults.Ok(await PagedList.ReadAsync(http, events, q => q.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id),
            q => q.Select(e => new { e.Id, e.TenantId, e.ActorType, e.ActorId, e.Action, e.TargetType, e.TargetId, e.ChangesJson, e.Reason, e.RequestId, e.IpAddress, e.CreatedAt }),
            e => new AuditEventResponse(e.Id, e.TenantId, e.ActorType, e.ActorId, e.Action, e.TargetType, e.TargetId,
                e.ChangesJson is null ? [] : JsonSerializer.Deserialize<List<string>>(e.ChangesJson) ?? [],
                e.Reason, e.RequestId, e.IpAddress, e.CreatedAt),
            paging, ct));
    }
}
