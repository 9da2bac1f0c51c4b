using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.IdentityProviders;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Ldap;

[Description("A run of an LDAP identity provider's directory sync. created/updated/disabled count users; errors counts "
    + "entries the sync could not apply (an email of a LOCAL user, a group name of a local group, an entry without email), "
    + "described in error_detail.")]
internal sealed record SyncJobResponse(
    string Id,
    string IdentityProviderId,
    [property: Description("FULL (started by an admin, or the first periodic run) or INCREMENTAL (the periodic sync, by modifyTimestamp).")] string Kind,
    [property: Description("RUNNING, SUCCEEDED or FAILED.")] string Status,
    int Created,
    int Updated,
    int Disabled,
    int Errors,
    [property: Description("Why the job failed, or its first errors; never a secret.")] string? ErrorDetail,
    [property: Description("The admin (user or client id) who started it; null for the periodic sync.")] string? StartedBy,
    DateTime CreatedAt,
    DateTime? FinishedAt);

/// <summary>/api/v1/tenants/{tenant_id}/identity-providers/{id}/sync and .../sync-jobs/{job_id}: an LDAP provider's directory sync.</summary>
internal static class LdapSyncEndpoints
{
    private static readonly QueryParameter<string> Kind = Query.Literal("kind", LdapSync.Full, [LdapSync.Full, LdapSync.Incremental],
        "FULL reads every entry and disables users whose entries are gone; INCREMENTAL reads the entries changed since the last "
        + "successful sync (modifyTimestamp) and disables nobody (a provider never synced gets a FULL run).");

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/identity-providers/{identity_provider_id}", "Identity Providers");
        group.MapPost("/sync", StartAsync).Requires(Permission.DirectoryWrite).WithSummary("Start Directory Sync")
            .WithQuery(Kind)
            .WithDescription("Queues a sync of an LDAP provider's directory (users and groups) and answers 202 with the job; "
                + "while a job of the provider is running, answers 202 with that job instead of queueing another. "
                + "409 for a provider that is not LDAP or is disabled.")
            .Returns<ApiResponse<SyncJobResponse>>(StatusCodes.Status202Accepted).ReturnsProblems(404, 409);
        group.MapGet("/sync-jobs/{job_id}", GetAsync).Requires(Permission.DirectoryRead).WithSummary("Get Directory Sync Job")
            .Returns<ApiResponse<SyncJobResponse>>().ReturnsProblems(404);
    }

    internal sealed record StartQuery(string Kind) : QueryInput
    {
        public static ValueTask<StartQuery?> BindAsync(HttpContext http) => BindAsync(http, static (h, errors) => new StartQuery(LdapSyncEndpoints.Kind.Read(h, errors)!));
    }

    private static async Task<IResult> StartAsync(
        [FromRoute(Name = "identity_provider_id")] string providerId, StartQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] Caller caller,
        [FromServices] LdapSyncWorker worker, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var kind = query.Kind;
        var tenantId = http.Tenant().Id;
        var provider = await db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.TenantId == tenantId && p.Id == providerId, ct);
        if (provider is null)
        {
            return IdentityProviderEndpoints.ProviderNotFound();
        }

        if (provider.Type != LdapSync.ProviderType)
        {
            return Problems.Conflict($"Only LDAP identity providers have a directory to sync; this one is {provider.Type}.");
        }

        if (!provider.Enabled)
        {
            return Problems.Conflict("The identity provider is disabled; enable it before syncing its directory.");
        }

        var running = await db.IdentityProviderSyncJobs.AsNoTracking()
            .Where(j => j.TenantId == tenantId && j.IdentityProviderId == providerId && j.Status == LdapSyncWorker.Running)
            .OrderBy(j => j.CreatedAt).FirstOrDefaultAsync(ct);
        var job = running ?? new IdentityProviderSyncJob
        {
            Id = Ids.New(),
            TenantId = tenantId,
            IdentityProviderId = providerId,
            Kind = provider.SyncCursor is null ? LdapSync.Full : kind,
            Status = LdapSyncWorker.Running,
            StartedBy = caller.PrincipalId,
            CreatedAt = time.UtcNow(),
        };
        if (running is null)
        {
            db.IdentityProviderSyncJobs.Add(job);
            audit.Record("identity_provider.sync_requested", "identity_provider", providerId, tenantId, reason: $"job {job.Id} ({job.Kind})");
            await db.SaveChangesAsync(ct);
            worker.Wake();
        }

        var location = $"/api/v1/tenants/{tenantId}/identity-providers/{providerId}/sync-jobs/{job.Id}";
        return TypedResults.Accepted(location, Envelope.Of(http, ToResponse(job)));
    }

    private static async Task<IResult> GetAsync(
        [FromRoute(Name = "identity_provider_id")] string providerId, [FromRoute(Name = "job_id")] string jobId, HttpContext http,
        [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var job = await db.IdentityProviderSyncJobs.AsNoTracking()
            .FirstOrDefaultAsync(j => j.TenantId == tenantId && j.IdentityProviderId == providerId && j.Id == jobId, ct);
        return job is null ? Problems.NotFound("Sync job not found.") : TypedResults.Ok(Envelope.Of(http, ToResponse(job)));
    }

    private static SyncJobResponse ToResponse(IdentityProviderSyncJob j) =>
        new(j.Id, j.IdentityProviderId, j.Kind, j.Status, j.Created, j.Updated, j.Disabled, j.Errors, j.ErrorDetail, j.StartedBy, j.CreatedAt, j.FinishedAt);
}
