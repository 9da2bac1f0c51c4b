using System.ComponentModel;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Access;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tenancy;

[Description("Create or update a tenant. On update, settings are merged field by field.")]
internal sealed record TenantRequest(
    string Name,
    [property: Description("URL-safe name used by hosted pages; derived from the name when omitted.")] string? Slug,
    string? PartnerId,
    [property: ApiOptional] TenantSettings? Settings);

[Description("A tenant: one customer's directory and applications.")]
internal sealed record TenantResponse(string Id, string Name, string Slug, string? PartnerId, TenantSettings Settings, DateTime CreatedAt, DateTime? UpdatedAt);

/// <summary>/api/v1/admin/tenants: platform admins, and partner admins for their own partners' tenants.</summary>
internal static partial class TenantEndpoints
{
    private const string Conflict = "A tenant with this slug already exists.";

    private static readonly QueryParameter<string> PartnerFilter = Query.NullableString("partner_id", 64, "Only tenants of this partner");

    public static RouteGroupBuilder MapTenants(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/tenants").WithTags("Tenants").RequireAuthorization(ScaiKeyPolicies.AdminScope).ValidatesInput();
        group.MapPost("", CreateAsync).WithSummary("Create Tenant")
            .AcceptsJson<TenantRequest>().Returns<ApiResponse<TenantResponse>>(StatusCodes.Status201Created).ReturnsProblems(409, 413);
        group.MapGet("", ListAsync).WithSummary("List Tenants")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter, PartnerFilter).Returns<PaginatedResponse<TenantResponse>>();
        group.MapGet("/{tenant_id}", GetAsync).WithSummary("Get Tenant").Returns<ApiResponse<TenantResponse>>().ReturnsProblems(404);
        group.MapPatch("/{tenant_id}", UpdateAsync).WithSummary("Update Tenant")
            .WithDescription("With If-Match (the ETag of a read), the update is refused with 412 when the tenant changed since.")
            .AcceptsJson<TenantRequest>().Returns<ApiResponse<TenantResponse>>().ReturnsProblems(404, 409, 412, 413);
        group.MapDelete("/{tenant_id}", DeleteAsync).WithSummary("Delete Tenant")
            .WithDescription("Deletes a tenant that has no users left (409 otherwise); its slug becomes free.")
            .ReturnsNoContent().ReturnsProblems(404, 409);
        return group;
    }

    private sealed record TenantInput(Optional<string> Name, Optional<string> Slug, Optional<string> PartnerId, JsonElement? Settings);

    private static TenantInput Read(BodyReader r, bool create)
    {
        var name = create ? new Optional<string>(true, r.RequiredString("name", 200)) : r.OptionalString("name", 200, nullable: false);
        if (name.Value is { } n && n.Trim().Length == 0)
        {
            r.Errors.Add(r.Loc("name"), "String should have at least 1 character", "string_too_short");
        }

        var slug = r.OptionalString("slug", 63, nullable: create);
        if (slug.Value is { } s && !SlugPattern().IsMatch(s))
        {
            r.Errors.ValueError(r.Loc("slug"), "slug must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit");
        }

        var partnerId = r.OptionalString("partner_id", 64);
        var settings = r.RawObject("settings");
        return new TenantInput(name.Value is null ? name : new(true, name.Value.Trim()), slug, partnerId, settings);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: true));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var errors = new ValidationErrors();
        var settings = TenantSettings.Default;
        var input = bound.Value!;
        if (input.Settings is { } raw)
        {
            settings = settings.Merge(raw, errors);
        }

        // Partner admins create tenants for their own partner (the only one, unless they hold several).
        var scope = AdminScope.Of(http);
        var ownerId = input.PartnerId.Value ?? (scope.Partners is { Count: 1 } only ? only.First() : null);
        if (!scope.IsPlatform && ownerId is null)
        {
            errors.Missing("body", "partner_id");
        }
        else if (!scope.Covers(ownerId))
        {
            return Problems.Forbidden("partner_id is outside your scope.");
        }

        if (ownerId is not null && !await db.Partners.AnyAsync(p => p.Id == ownerId, ct))
        {
            errors.ValueError(["body", "partner_id"], "partner not found");
        }

        var slug = input.Slug.Value ?? Slugify(input.Name.Value!);
        if (slug.Length == 0)
        {
            errors.ValueError(["body", "slug"], "could not derive a slug from the name; give one");
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var tenant = new Tenant
        {
            Id = Ids.New(),
            Name = input.Name.Value!,
            Slug = slug,
            PartnerId = ownerId,
            SettingsJson = settings.ToJson(),
            CreatedAt = time.UtcNow(),
        };
        db.Tenants.Add(tenant);
        audit.Record("tenant.created", "tenant", tenant.Id, tenant.Id, ["name", "slug", "partner_id", "settings"]);
        if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Created($"/api/v1/admin/tenants/{tenant.Id}", Envelope.Of(http, ToResponse(tenant)));
    }

    internal sealed record ListQuery(PageRequest Paging, string? PartnerId) : QueryInput
    {
        public static ValueTask<ListQuery?> BindAsync(HttpContext http) =>
            BindAsync(http, static (h, e) => new ListQuery(PageRequest.Read(h, e), PartnerFilter.Read(h, e)));
    }

    private static async Task<IResult> ListAsync(ListQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var (paging, partnerId) = (query.Paging, query.PartnerId);
        var scope = AdminScope.Of(http);
        if (partnerId is not null && !scope.Covers(partnerId))
        {
            return Problems.Forbidden("partner_id is outside your scope.");
        }

        var tenants = Visible(db.Tenants.AsNoTracking(), scope);
        if (partnerId is not null)
        {
            tenants = tenants.Where(t => t.PartnerId == partnerId);
        }

        return TypedResults.Ok(await PagedList.ReadAsync(http, tenants, q => q.OrderBy(t => t.Name).ThenBy(t => t.Id),
            q => q.Select(t => new { t.Id, t.Name, t.Slug, t.PartnerId, t.SettingsJson, t.CreatedAt, t.UpdatedAt }),
            t => new TenantResponse(t.Id, t.Name, t.Slug, t.PartnerId, TenantSettings.FromJson(t.SettingsJson), t.CreatedAt, t.UpdatedAt), paging, ct));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "tenant_id")] string tenantId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var tenant = await Visible(db.Tenants.AsNoTracking(), AdminScope.Of(http)).FirstOrDefaultAsync(t => t.Id == tenantId, ct);
        if (tenant is null)
        {
            return Problems.NotFound("Tenant not found.");
        }

        TenantVersions.Set(http.Response, tenant);
        return TypedResults.Ok(Envelope.Of(http, ToResponse(tenant)));
    }

    private static async Task<IResult> UpdateAsync([FromRoute(Name = "tenant_id")] string tenantId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: false));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var errors = new ValidationErrors();
        var scope = AdminScope.Of(http);
        var tenant = await Visible(db.Tenants, scope).FirstOrDefaultAsync(t => t.Id == tenantId, ct);
        if (tenant is null)
        {
            return Problems.NotFound("Tenant not found.");
        }

        var readVersion = tenant.UpdatedAt;
        if (!TenantVersions.IfMatchAllows(http.Request, tenant))
        {
            return Problems.PreconditionFailed();
        }

        var input = bound.Value!;
        var changed = new List<string>();
        if (input.Name.Value is { } name && name != tenant.Name)
        {
            tenant.Name = name;
            changed.Add("name");
        }

        if (input.Slug.Value is { } slug && slug != tenant.Slug)
        {
            tenant.Slug = slug;
            changed.Add("slug");
        }

        if (input.PartnerId.IsSet && input.PartnerId.Value != tenant.PartnerId)
        {
            if (!scope.Covers(input.PartnerId.Value))
            {
                return Problems.Forbidden("A partner admin cannot move a tenant outside its partners.");
            }

            if (input.PartnerId.Value is { } partnerId && !await db.Partners.AnyAsync(p => p.Id == partnerId, ct))
            {
                errors.ValueError(["body", "partner_id"], "partner not found");
            }

            tenant.PartnerId = input.PartnerId.Value;
            changed.Add("partner_id");
        }

        if (input.Settings is { } raw)
        {
            var settings = TenantSettings.FromJson(tenant.SettingsJson).Merge(raw, errors).ToJson();
            if (settings != tenant.SettingsJson)
            {
                tenant.SettingsJson = settings;
                changed.Add("settings");
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        if (changed.Count > 0)
        {
            tenant.UpdatedAt = time.UtcNow();
            audit.Record("tenant.updated", "tenant", tenant.Id, tenant.Id, changed);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // With If-Match, the version read must still be the stored one when the write lands: claiming it in the same
            // transaction (a conditional UPDATE, which also takes the row's lock) closes the window between the check
            // above and the save, so of two admins editing the same version only one wins and the other gets 412.
            if (http.Request.Headers.IfMatch.Count > 0 && !await TenantVersions.ClaimAsync(db, tenant.Id, readVersion, tenant.UpdatedAt.Value, ct))
            {
                return Problems.PreconditionFailed();
            }

            if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
            {
                return conflict;
            }

            await transaction.CommitAsync(ct);
            TenantLookup.Evict(http.RequestServices.GetRequiredService<IMemoryCache>(), tenant.Id);
        }

        TenantVersions.Set(http.Response, tenant);
        return TypedResults.Ok(Envelope.Of(http, ToResponse(tenant)));
    }

    private static async Task<IResult> DeleteAsync(
        [FromRoute(Name = "tenant_id")] string tenantId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var tenant = await Visible(db.Tenants, AdminScope.Of(http)).FirstOrDefaultAsync(t => t.Id == tenantId, ct);
        if (tenant is null)
        {
            return Problems.NotFound("Tenant not found.");
        }

        if (await db.Users.AnyAsync(u => u.TenantId == tenantId && u.DeletedAt == null, ct))
        {
            return Problems.Conflict("The tenant still has users; delete them first.");
        }

        tenant.DeletedAt = time.UtcNow();
        audit.Record("tenant.deleted", "tenant", tenant.Id, tenant.Id);
        await db.SaveChangesAsync(ct);
        TenantLookup.Evict(http.RequestServices.GetRequiredService<IMemoryCache>(), tenant.Id);
        return TypedResults.NoContent();
    }

    /// <summary>Live tenants the caller administers: all for platform admins, their partners' for partner admins.</summary>
    private static IQueryable<Tenant> Visible(IQueryable<Tenant> tenants, AdminScope scope)
    {
        tenants = tenants.Where(t => t.DeletedAt == null);
        return scope.Partners is { } partners ? tenants.Where(t => t.PartnerId != null && partners.Contains(t.PartnerId)) : tenants;
    }

    private static TenantResponse ToResponse(Tenant t) =>
        new(t.Id, t.Name, t.Slug, t.PartnerId, TenantSettings.FromJson(t.SettingsJson), t.CreatedAt, t.UpdatedAt);

    internal static string Slugify(string name)
    {
        var decomposed = name.ToLowerInvariant().Normalize(System.Text.NormalizationForm.FormD);
        var withoutAccents = new string(decomposed.Where(c => char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark).ToArray());
        var slug = NonSlug().Replace(withoutAccents, "-").Trim('-');
        return slug.Length > 63 ? slug[..63].TrimEnd('-') : slug;
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonSlug();
}
