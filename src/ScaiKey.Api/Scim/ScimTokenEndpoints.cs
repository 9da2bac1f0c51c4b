using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Scim;

[Description("Create a SCIM provisioning token for the tenant's directory (Entra ID, Okta, an HR system).")]
internal sealed record ScimTokenCreate(
    string Name,
    [property: ApiOptional, Description("When the token stops working (in the future); absent: it works until deleted.")] DateTime? ExpiresAt);

[Description("A SCIM provisioning token, without its secret.")]
internal sealed record ScimTokenResponse(
    string Id,
    string Name,
    [property: Description("The token's first characters, to tell tokens apart.")] string Prefix,
    DateTime CreatedAt,
    DateTime? ExpiresAt,
    [property: Description("Last use on /scim/v2, recorded at most once a minute.")] DateTime? LastUsedAt);

[Description("A new SCIM provisioning token: token is shown in this response only and never again.")]
internal sealed record ScimTokenCreatedResponse(string Id, string Name, string Token, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt);

/// <summary>/api/v1/tenants/{tenant_id}/scim/tokens: the credentials a provisioning client uses on /scim/v2.</summary>
internal static class ScimTokenEndpoints
{
    public static RouteGroupBuilder MapScimTokens(this IEndpointRouteBuilder app)
    {
        // Tenant admins and above: a token can create, change and delete every user of the tenant.
        var group = app.MapTenantGroup("/scim/tokens", "SCIM");
        group.MapPost("", CreateAsync).Requires(Permission.DirectoryWrite).WithSummary("Create SCIM Token")
            .WithDescription("The token (scim_...) is returned once; only its SHA-256 is stored. Use it as a bearer token on /scim/v2.")
            .AcceptsJson<ScimTokenCreate>().Returns<ApiResponse<ScimTokenCreatedResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 413);
        group.MapGet("", ListAsync).Requires(Permission.DirectoryWrite).WithSummary("List SCIM Tokens")
            .WithDescription("The tenant's SCIM tokens, newest first, without secrets.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter).Returns<PaginatedResponse<ScimTokenResponse>>().ReturnsProblems(404);
        group.MapDelete("/{token_id}", DeleteAsync).Requires(Permission.DirectoryWrite).WithSummary("Delete SCIM Token")
            .WithDescription("The token stops working at once.").ReturnsNoContent().ReturnsProblems(404);
        return group;
    }

    private static (string Name, DateTime? ExpiresAt) Read(BodyReader r, DateTime now)
    {
        var name = r.RequiredString("name", 200);
        if (name is not null && name.Trim().Length == 0)
        {
            r.Errors.Add(r.Loc("name"), "String should have at least 1 character", "string_too_short");
        }

        DateTime? expiresAt = null;
        var expires = r.OptionalString("expires_at", 64);
        if (expires.Value is { } text)
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                r.Errors.Add(r.Loc("expires_at"), "Input should be a valid datetime", "datetime_parsing");
            }
            else if (parsed.UtcDateTime <= now)
            {
                r.Errors.ValueError(r.Loc("expires_at"), "expires_at must be in the future");
            }
            else
            {
                expiresAt = parsed.UtcDateTime;
            }
        }

        return (name?.Trim() ?? string.Empty, expiresAt);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] Caller caller, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var now = time.UtcNow();
        var bound = await JsonBody.BindAsync(http, r => Read(r, now));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        var token = ScimTokens.New();
        var entity = new ScimToken
        {
            Id = Ids.New(),
            TenantId = tenantId,
            Name = bound.Value.Name,
            TokenHash = ScimTokens.Hash(token),
            Prefix = token[..ScimTokens.PrefixLength],
            CreatedBy = caller.PrincipalId,
            CreatedAt = now,
            ExpiresAt = bound.Value.ExpiresAt,
        };
        db.ScimTokens.Add(entity);
        audit.Record("scim_token.created", "scim_token", entity.Id, tenantId, entity.ExpiresAt is null ? ["name"] : ["name", "expires_at"]);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/tenants/{tenantId}/scim/tokens/{entity.Id}", Envelope.Of(http,
            new ScimTokenCreatedResponse(entity.Id, entity.Name, token, entity.Prefix, entity.CreatedAt, entity.ExpiresAt)));
    }

    private static async Task<IResult> ListAsync(PagingQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var paging = query.Paging;
        var tenantId = http.Tenant().Id;
        var tokens = db.ScimTokens.AsNoTracking().Where(t => t.TenantId == tenantId);
        return TypedResults.Ok(await PagedList.ReadAsync(http, tokens, q => q.OrderByDescending(t => t.CreatedAt).ThenBy(t => t.Id),
            q => q.Select(t => new ScimTokenResponse(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt)), paging, ct));
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "token_id")] string tokenId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var entity = await db.ScimTokens.FirstOrDefaultAsync(t => t.TenantId == tenantId && t.Id == tokenId, ct);
        if (entity is null)
        {
            return Problems.NotFound("SCIM token not found.");
        }

        db.ScimTokens.Remove(entity);
        audit.Record("scim_token.deleted", "scim_token", entity.Id, tenantId);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
