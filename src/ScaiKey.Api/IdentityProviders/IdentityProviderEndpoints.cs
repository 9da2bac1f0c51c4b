using System.ComponentModel;
using System.Text.Json.Nodes;
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

namespace ScaiKey.Api.IdentityProviders;

[Description("The protocol an external identity provider speaks.")]
internal enum IdentityProviderType
{
    Oidc,
    Saml,
    Ldap,
}

[Description("Register an external identity provider. config needs, by type: OIDC issuer (https URL) and client_id "
    + "(optional client_secret, scopes, claims, domains, trust_email); SAML idp_metadata_xml or idp_metadata_url, or entity_id, "
    + "sso_url (https URL) and idp_certificate (optional domains, trust_email, attribute names, want_assertions_signed, "
    + "sp_private_key with sp_certificate); LDAP url (ldap:// or ldaps://) and base_dn (optional start_tls, bind_dn, "
    + "bind_password, user_filter, group_filter, attributes, sync_interval_minutes). Secrets: the keys each type declares "
    + "(OIDC client_secret, private_key, ...; SAML sp_private_key, passphrase, signing_key, ...; LDAP bind_password, bind_pw, "
    + "bind_credential, pwd, password, ...; compared without case, '_' or '-'), and any other top-level key whose name contains "
    + "'secret', 'password', 'passwd', 'credential', 'token', 'private' or 'key' (in any case) unless it ends in _url or _id "
    + "or is issuer, base_dn or url. Secrets are write-only, stored sealed, never returned.")]
internal sealed record IdentityProviderCreate(
    string Name,
    IdentityProviderType Type,
    JsonObject Config,
    [property: ApiOptional, Description("Whether users may sign in (and an LDAP directory sync) through it; default true.")] bool Enabled = true);

[Description("Change an identity provider. config is merged key by key: a key set to null is removed, absent keys "
    + "(secrets included) keep their value. The type cannot change.")]
internal sealed record IdentityProviderUpdate(
    [property: ApiOptional] string Name,
    [property: ApiOptional, Description("Accepted only with the provider's current type.")] IdentityProviderType Type,
    [property: ApiOptional] JsonObject Config,
    [property: ApiOptional, Description("false: nobody signs in or syncs through the provider; its links stay.")] bool Enabled);

[Description("An external identity provider of the tenant. config holds its settings without secret values; "
    + "secret_fields names the secrets that are set.")]
internal sealed record IdentityProviderResponse(
    string Id,
    string Name,
    IdentityProviderType Type,
    JsonObject Config,
    IReadOnlyList<string> SecretFields,
    bool Enabled,
    [property: Description("OIDC: the redirect URI (callback) to register at the provider; null for other types.")] string? RedirectUri,
    [property: Description("SAML: the service provider's entity id to register at the IdP; null for other types.")] string? SpEntityId,
    [property: Description("SAML: the Assertion Consumer Service URL (HTTP-POST); null for other types.")] string? AcsUrl,
    [property: Description("SAML: where the service provider's metadata is served; null for other types.")] string? SpMetadataUrl,
    DateTime CreatedAt,
    DateTime? UpdatedAt);

/// <summary>/api/v1/tenants/{tenant_id}/identity-providers.</summary>
internal static class IdentityProviderEndpoints
{
    private const string Conflict = "An identity provider with this name already exists in this tenant.";

    internal static readonly string[] TypeValues = Choices.Of<IdentityProviderType>();

    public static RouteGroupBuilder MapIdentityProviders(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/identity-providers", "Identity Providers");
        group.MapPost("", CreateAsync).Requires(Permission.DirectoryWrite).WithSummary("Create Identity Provider")
            .AcceptsJson<IdentityProviderCreate>().Returns<ApiResponse<IdentityProviderResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 409, 413);
        group.MapGet("", ListAsync).Requires(Permission.DirectoryRead).WithSummary("List Identity Providers")
            .WithDescription("Identity providers of the tenant, ordered by name.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter).Returns<PaginatedResponse<IdentityProviderResponse>>().ReturnsProblems(404);
        group.MapGet("/{identity_provider_id}", GetAsync).Requires(Permission.DirectoryRead).WithSummary("Get Identity Provider")
            .Returns<ApiResponse<IdentityProviderResponse>>().ReturnsProblems(404);
        group.MapPatch("/{identity_provider_id}", UpdateAsync).Requires(Permission.DirectoryWrite)
            .RequireAuthorization(Authorization.ScaiKeyPolicies.CoversProviderUsers).WithSummary("Update Identity Provider")
            .WithDescription("403 when a user linked to the provider holds roles beyond the caller's: changing how a provider "
                + "authenticates is acting on every user it signs in.")
            .AcceptsJson<IdentityProviderUpdate>().Returns<ApiResponse<IdentityProviderResponse>>().ReturnsProblems(404, 409, 413);
        group.MapDelete("/{identity_provider_id}", DeleteAsync).Requires(Permission.DirectoryWrite).WithSummary("Delete Identity Provider")
            .WithDescription("Deletes an identity provider that no federated identity links to (409 otherwise).")
            .ReturnsNoContent().ReturnsProblems(404, 409);
        return group;
    }

    public static IdentityProviderType ParseType(string type) => Enum.GetValues<IdentityProviderType>()[Array.IndexOf(TypeValues, type)];

    private sealed record Input(Optional<string> Name, Optional<string> Type, Dictionary<string, JsonNode?>? Config, bool? Enabled);

    private static Input Read(BodyReader r, bool create, bool allowHttp)
    {
        var name = create ? new Optional<string>(true, r.RequiredString("name", 200)) : r.OptionalString("name", 200, nullable: false);
        if (name.Value is { } n && n.Trim().Length == 0)
        {
            r.Errors.Add(r.Loc("name"), "String should have at least 1 character", "string_too_short");
        }

        var errorsBefore = r.Errors.Items.Count;
        var type = r.OptionalChoice("type", TypeValues, nullable: false);
        if (create && !type.IsSet && r.Errors.Items.Count == errorsBefore)
        {
            r.Errors.Missing(r.Loc("type"));
        }

        errorsBefore = r.Errors.Items.Count;
        var config = IdentityProviderConfig.Read(r, "config", type.Value);
        if (create && config is null && r.Errors.Items.Count == errorsBefore)
        {
            r.Errors.Missing(r.Loc("config"));
        }

        // On create the whole configuration is known here, so its rules join the other field errors in one 422.
        if (create && type.Value is { } t && config is not null)
        {
            var (plain, secrets) = Split(t, config);
            IdentityProviderConfig.Validate(t, plain, r.Errors, allowHttp, secrets);
            IdentityProviderConfig.CheckSize(plain, secrets, r.Errors);
        }

        var enabled = r.OptionalBool("enabled");
        if (enabled.IsSet && enabled.Value is null)
        {
            r.Errors.Add(r.Loc("enabled"), "Input should be a valid boolean", "bool_type");
        }

        return new Input(name.Value is null ? name : new(true, name.Value.Trim()), type, config, enabled.Value);
    }

    /// <summary>A create body's config as plain settings and secrets; null values mean "not set".</summary>
    private static (JsonObject Plain, JsonObject Secrets) Split(string type, Dictionary<string, JsonNode?> config)
    {
        JsonObject plain = [], secrets = [];
        foreach (var (key, value) in config)
        {
            if (value is not null)
            {
                (IdentityProviderConfig.IsSecret(type, key) ? secrets : plain)[key] = value.DeepClone();
            }
        }

        return (plain, secrets);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] KeyRing keyRing, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var allowHttp = AllowHttp(http);
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: true, allowHttp));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        var input = bound.Value!;
        var (plain, secrets) = Split(input.Type.Value!, input.Config!);
        var id = Ids.New();
        var entity = new IdentityProvider
        {
            Id = id,
            TenantId = tenantId,
            Name = input.Name.Value!,
            Type = input.Type.Value!,
            ConfigJson = IdentityProviderConfig.Serialize(plain),
            SealedSecrets = IdentityProviderConfig.Seal(keyRing, id, secrets),
            Enabled = input.Enabled ?? true,
            CreatedAt = time.UtcNow(),
        };
        db.IdentityProviders.Add(entity);
        audit.Record("identity_provider.created", "identity_provider", entity.Id, tenantId, ["name", "type", "config", "enabled"]);
        if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Created($"/api/v1/tenants/{tenantId}/identity-providers/{entity.Id}",
            Envelope.Of(http, ToResponse(http, entity, plain, secrets)));
    }

    private static async Task<IResult> ListAsync(PagingQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] KeyRing keyRing, CancellationToken ct)
    {
        var paging = query.Paging;
        var tenantId = http.Tenant().Id;
        var providers = db.IdentityProviders.AsNoTracking().Where(p => p.TenantId == tenantId);
        return TypedResults.Ok(await PagedList.ReadAsync(http, providers, q => q.OrderBy(p => p.Name).ThenBy(p => p.Id), q => q,
            p => ToResponse(http, keyRing, p), paging, ct));
    }

    private static async Task<IResult> GetAsync(
        [FromRoute(Name = "identity_provider_id")] string providerId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] KeyRing keyRing, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var entity = await db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.TenantId == tenantId && p.Id == providerId, ct);
        return entity is null ? ProviderNotFound() : TypedResults.Ok(Envelope.Of(http, ToResponse(http, keyRing, entity)));
    }

    private static async Task<IResult> UpdateAsync(
        [FromRoute(Name = "identity_provider_id")] string providerId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, [FromServices] KeyRing keyRing,
        [FromServices] TimeProvider time, CancellationToken ct)
    {
        var allowHttp = AllowHttp(http);
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: false, allowHttp));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var tenantId = http.Tenant().Id;
        var input = bound.Value!;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);

        // Takes the row's write lock first, so two concurrent merges cannot lose each other's keys.
        await db.IdentityProviders.Where(p => p.TenantId == tenantId && p.Id == providerId)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Name, p => p.Name), ct);
        var entity = await db.IdentityProviders.FirstOrDefaultAsync(p => p.TenantId == tenantId && p.Id == providerId, ct);
        if (entity is null)
        {
            return ProviderNotFound();
        }

        var errors = new ValidationErrors();
        if (input.Type.Value is { } type && type != entity.Type)
        {
            errors.ValueError(["body", "type"], "the type of an identity provider cannot be changed; create a new one instead");
        }

        var changed = new List<string>();
        if (input.Name.Value is { } name && name != entity.Name)
        {
            entity.Name = name;
            changed.Add("name");
        }

        if (input.Enabled is { } enabled && enabled != entity.Enabled)
        {
            entity.Enabled = enabled;
            changed.Add("enabled");
        }

        var (plain, secrets) = IdentityProviderConfig.Load(keyRing, entity.Id, entity.Type, entity.ConfigJson, entity.SealedSecrets);
        var configChanged = false;
        foreach (var (key, value) in input.Config ?? [])
        {
            // A key lives in one of the two objects; one kept as a secret by Load may come back as a plain value.
            var secret = IdentityProviderConfig.IsSecret(entity.Type, key);
            var (target, other) = secret ? (secrets, plain) : (plain, secrets);
            target.TryGetPropertyValue(key, out var current);
            if (value is null ? !target.ContainsKey(key) && !other.ContainsKey(key) : !other.ContainsKey(key) && JsonNode.DeepEquals(current, value))
            {
                continue;
            }

            other.Remove(key);
            if (value is null)
            {
                target.Remove(key);
            }
            else
            {
                target[key] = value.DeepClone();
            }

            changed.Add("config." + key);
            configChanged = true;
        }

        if (configChanged)
        {
            IdentityProviderConfig.Validate(entity.Type, plain, errors, allowHttp, secrets);
            IdentityProviderConfig.CheckSize(plain, secrets, errors);
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        if (changed.Count > 0)
        {
            // A provider switched off ends the sign-ins it started: nothing in flight completes through it.
            if (!entity.Enabled)
            {
                await db.FederationRequests.Where(f => f.TenantId == tenantId && f.IdentityProviderId == entity.Id).ExecuteDeleteAsync(ct);
            }

            entity.ConfigJson = IdentityProviderConfig.Serialize(plain);
            entity.SealedSecrets = IdentityProviderConfig.Seal(keyRing, entity.Id, secrets);
            entity.UpdatedAt = time.UtcNow();
            audit.Record("identity_provider.updated", "identity_provider", entity.Id, tenantId, changed);
            if (await db.SaveOrConflictAsync(Conflict, ct) is { } conflict)
            {
                return conflict;
            }

            await transaction.CommitAsync(ct);
        }

        return TypedResults.Ok(Envelope.Of(http, ToResponse(http, entity, plain, secrets)));
    }

    private static async Task<IResult> DeleteAsync(
        [FromRoute(Name = "identity_provider_id")] string providerId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] AuditLog audit, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        var entity = await db.IdentityProviders.FirstOrDefaultAsync(p => p.TenantId == tenantId && p.Id == providerId, ct);
        if (entity is null)
        {
            return ProviderNotFound();
        }

        if (await db.FederatedIdentities.AnyAsync(f => f.IdentityProviderId == providerId, ct))
        {
            return LinkedConflict();
        }

        db.IdentityProviders.Remove(entity);
        audit.Record("identity_provider.deleted", "identity_provider", entity.Id, tenantId);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DbErrors.IsForeignKeyViolation(ex))
        {
            // A user was linked between the check above and the delete; the foreign key refused it.
            return LinkedConflict();
        }

        return TypedResults.NoContent();
    }

    private static ProblemResult LinkedConflict() =>
        Problems.Conflict("Federated identities still link users to this identity provider; unlink them first.");

    internal static ProblemResult ProviderNotFound() => Problems.NotFound("Identity provider not found.");

    private static bool AllowHttp(HttpContext http) =>
        http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Federation.FederationOptions>>().Value.AllowHttpProviders;

    private static IdentityProviderResponse ToResponse(HttpContext http, KeyRing keyRing, IdentityProvider p)
    {
        var (plain, secrets) = IdentityProviderConfig.Load(keyRing, p.Id, p.Type, p.ConfigJson, p.SealedSecrets);
        return ToResponse(http, p, plain, secrets);
    }

    private static IdentityProviderResponse ToResponse(HttpContext http, IdentityProvider p, JsonObject plain, JsonObject secrets)
    {
        var saml = p.Type == "SAML";
        return new(p.Id, p.Name, ParseType(p.Type), plain, IdentityProviderConfig.Names(secrets), p.Enabled,
            p.Type == "OIDC" ? Federation.FederationUrls.OidcCallback(http, p.Id) : null,
            saml ? Federation.FederationUrls.SamlEntityId(http, p.Id) : null,
            saml ? Federation.FederationUrls.SamlAcs(http, p.Id) : null,
            saml ? Federation.FederationUrls.SamlMetadata(http, p.Id) : null,
            p.CreatedAt, p.UpdatedAt);
    }
}
