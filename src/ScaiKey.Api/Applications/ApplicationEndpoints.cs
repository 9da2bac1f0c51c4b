using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.Abstractions;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Applications;

/// <summary>/api/v1/tenants/{tenant_id}/applications: the tenant's OAuth clients and who is assigned to them.</summary>
internal static partial class ApplicationEndpoints
{
    private const string TargetType = "application";
    private const string ClientIdPrefix = "app_";

    public static RouteGroupBuilder MapApplications(this IEndpointRouteBuilder app)
    {
        var group = app.MapTenantGroup("/applications", "Applications");
        group.MapPost("", CreateAsync).Requires(Permission.DirectoryWrite).WithSummary("Create Application")
            .WithDescription("Registers an OAuth client. SERVICE and WEB are confidential: the response carries client_secret, shown only once. SPA and NATIVE are public clients with PKCE.")
            .AcceptsJson<ApplicationCreate>().Returns<ApiResponse<ApplicationCreatedResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 409, 413);
        group.MapGet("", ListAsync).Requires(Permission.DirectoryRead).WithSummary("List Applications")
            .WithDescription("Ordered by name; search matches the name case-insensitively.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter, UserEndpoints.Search).Returns<PaginatedResponse<ApplicationResponse>>().ReturnsProblems(404);
        group.MapGet("/{application_id}", GetAsync).Requires(Permission.DirectoryRead).WithSummary("Get Application")
            .Returns<ApiResponse<ApplicationResponse>>().ReturnsProblems(404);
        group.MapPatch("/{application_id}", UpdateAsync).Requires(Permission.DirectoryWrite).WithSummary("Update Application")
            .AcceptsJson<ApplicationUpdate>().Returns<ApiResponse<ApplicationResponse>>().ReturnsProblems(404, 409, 413);
        group.MapDelete("/{application_id}", DeleteAsync).Requires(Permission.DirectoryWrite).WithSummary("Delete Application")
            .WithDescription("Deletes the client and its assignments; its own tokens and its users' access and refresh tokens stop working at once.")
            .ReturnsNoContent().ReturnsProblems(404);
        group.MapPost("/{application_id}/secret", RotateSecretAsync).Requires(Permission.DirectoryWrite).WithSummary("Rotate Application Secret")
            .WithDescription("Replaces the secret of a confidential application (409 for public ones) and returns the new one, only in this response. The old secret stops working at once.")
            .Returns<ApiResponse<ApplicationSecretResponse>>().ReturnsProblems(404, 409);
        group.MapPost("/{application_id}/assignments", AssignAsync).Requires(Permission.DirectoryWrite).WithSummary("Create Application Assignment")
            .AcceptsJson<ApplicationAssignmentCreate>().Returns<ApiResponse<ApplicationAssignmentResponse>>(StatusCodes.Status201Created).ReturnsProblems(404, 409, 413);
        group.MapGet("/{application_id}/assignments", ListAssignmentsAsync).Requires(Permission.DirectoryRead).WithSummary("List Application Assignments")
            .WithDescription("Oldest first.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter).Returns<PaginatedResponse<ApplicationAssignmentResponse>>().ReturnsProblems(404);
        group.MapDelete("/{application_id}/assignments/{assignment_id}", UnassignAsync).Requires(Permission.DirectoryWrite).WithSummary("Delete Application Assignment")
            .ReturnsNoContent().ReturnsProblems(404);
        group.MapGet("/{application_id}/effective-users", EffectiveUsersAsync).Requires(Permission.DirectoryRead).WithSummary("List Application Effective Users")
            .WithDescription("Users assigned directly, or through a group or any group nested below an assigned group; each once, ordered by email.")
            .WithQuery(PageRequest.PageParameter, PageRequest.PerPageParameter).Returns<PaginatedResponse<UserListItem>>().ReturnsProblems(404);
        return group;
    }

    // ---- body reading: shapes here, rules across fields once the resulting state is known ----

    private sealed record Input(
        Optional<string> Name, ApplicationType? Type, List<string>? RedirectUris, List<string>? GrantTypes,
        bool? FirstParty, bool? ConsentRequired, bool? AssignmentRequired);

    private static Input Read(BodyReader r, bool create)
    {
        var name = create ? new Optional<string>(true, r.RequiredString("name", 200)) : r.OptionalString("name", 200, nullable: false);
        if (name.Value is { } n && n.Trim().Length == 0)
        {
            r.Errors.Add(r.Loc("name"), "String should have at least 1 character", "string_too_short");
        }

        ApplicationType? type = null;
        if (create)
        {
            var before = r.Errors.Items.Count;
            var choice = r.OptionalChoice("type", ApplicationRules.TypeNames, nullable: false);
            if (choice.Value is { } wire)
            {
                type = ApplicationRules.Parse(wire);
            }
            else if (r.Errors.Items.Count == before)
            {
                r.Errors.Missing(r.Loc("type"));
            }
        }
        else if (r.OptionalString("type", 64).IsSet)
        {
            r.Errors.ValueError(r.Loc("type"), "type cannot be changed; register a new application instead");
        }

        var redirectUris = ReadList(r, "redirect_uris", ApplicationRules.MaxRedirectUris, ApplicationRules.MaxRedirectUriLength);
        var grantTypes = ReadList(r, "grant_types", 10, 64);
        for (var i = 0; grantTypes is not null && i < grantTypes.Count; i++)
        {
            if (!ApplicationGrants.All.Contains(grantTypes[i]))
            {
                r.Errors.Add(r.Loc("grant_types", i), "Input should be " + Choices.Describe(ApplicationGrants.All), "literal_error");
            }
        }

        // Booleans only: null is refused like any other wrong type (bool_type), so "absent" is the only way to mean "leave it".
        var firstParty = r.OptionalBool("first_party").Value;
        var consentRequired = r.OptionalBool("consent_required").Value;
        var assignmentRequired = r.OptionalBool("assignment_required").Value;
        return new Input(name.Value is null ? name : new(true, name.Value.Trim()), type, redirectUris, grantTypes,
            firstParty, consentRequired, assignmentRequired);
    }

    /// <summary>A list of strings, or null when absent; also null when an item was invalid (indexes would no longer match).</summary>
    private static List<string>? ReadList(BodyReader r, string field, int maxItems, int maxLength)
    {
        var before = r.Errors.Items.Count;
        var list = r.StringList(field, maxItems, maxLength);
        return r.Errors.Items.Count == before ? list : null;
    }

    // ---- applications ----

    private static async Task<IResult> CreateAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] IOpenIddictApplicationManager clients, [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: true));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var input = bound.Value!;
        var type = input.Type!.Value;
        var errors = new ValidationErrors();
        if (input.RedirectUris is not null)
        {
            ApplicationRules.CheckRedirectUris(errors, type, input.RedirectUris);
        }

        var redirectUris = ApplicationRules.DistinctUris(input.RedirectUris ?? []);
        ApplicationRules.CheckRedirectUrisLength(errors, redirectUris);
        var grants = ApplicationGrants.Normalize(input.GrantTypes ?? ApplicationGrants.Defaults(type));
        ApplicationRules.CheckCombination(errors, type, redirectUris, grants);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var tenantId = http.Tenant().Id;
        var secret = ApplicationRules.IsConfidential(type) ? SecretGenerator.Token(32) : null;
        var firstParty = input.FirstParty ?? false;
        var entity = new Application
        {
            Id = Ids.New(),
            TenantId = tenantId,
            Name = input.Name.Value!,
            Type = ApplicationRules.WireName(type),
            ClientId = ClientIdPrefix + SecretGenerator.Token(18),
            RedirectUrisJson = ApplicationRules.WriteList(redirectUris),
            GrantTypesJson = ApplicationRules.WriteList(grants),

            // The tenant's own applications need not ask its users; anyone else's must, unless the admin says otherwise.
            FirstParty = firstParty,
            ConsentRequired = input.ConsentRequired ?? !firstParty,
            AssignmentRequired = input.AssignmentRequired ?? false,
            CreatedAt = time.UtcNow(),
        };
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = entity.ClientId,
            ClientSecret = secret,
            ClientType = ApplicationRules.ClientTypeOf(type),
        };
        ApplicationRules.Apply(descriptor, entity.Name, type, redirectUris, grants, entity.FirstParty);

        // OpenIddict saves through the same DbContext: one transaction holds its client, our row and the audit event.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await clients.CreateAsync(descriptor, ct);
        db.Applications.Add(entity);
        audit.Record("application.created", TargetType, entity.Id, tenantId,
            ["name", "type", "redirect_uris", "grant_types", "first_party", "consent_required", "assignment_required"]);
        if (await db.SaveOrConflictAsync("An application with this client id already exists; retry.", ct) is { } conflict)
        {
            return conflict;
        }

        await transaction.CommitAsync(ct);
        var r = ToResponse(entity);
        var created = new ApplicationCreatedResponse(r.Id, r.TenantId, r.Name, r.Type, r.ClientId, r.ClientType, r.RedirectUris, r.GrantTypes,
            r.FirstParty, r.ConsentRequired, r.AssignmentRequired, r.CreatedAt, r.UpdatedAt, secret);
        return TypedResults.Created($"/api/v1/tenants/{tenantId}/applications/{entity.Id}", Envelope.Of(http, created));
    }

    private static async Task<IResult> ListAsync(PagedSearchQuery query, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var (paging, search) = (query.Paging, query.Search);
        var tenantId = http.Tenant().Id;
        var applications = db.Applications.AsNoTracking().Where(a => a.TenantId == tenantId);
        if (search?.Trim() is { Length: > 0 } term)
        {
            var lowered = term.ToLowerInvariant();
            applications = applications.Where(a => a.Name.ToLower().Contains(lowered));
        }

        return TypedResults.Ok(await PagedList.ReadAsync(http, applications,
            q => q.OrderBy(a => a.Name.ToLower()).ThenBy(a => a.Name).ThenBy(a => a.Id), q => q, ToResponse, paging, ct));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "application_id")] string applicationId, HttpContext http, [FromServices] ScaiKeyDbContext db, CancellationToken ct)
    {
        var entity = await FindAsync(db, http.Tenant().Id, applicationId, ct);
        return entity is null ? ApplicationNotFound() : TypedResults.Ok(Envelope.Of(http, ToResponse(entity)));
    }

    private static async Task<IResult> UpdateAsync(
        [FromRoute(Name = "application_id")] string applicationId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] IOpenIddictApplicationManager clients,
        [FromServices] AuditLog audit, [FromServices] IMemoryCache cache, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var bound = await JsonBody.BindAsync(http, r => Read(r, create: false));
        if (bound.Failure is not null)
        {
            return bound.Failure;
        }

        var input = bound.Value!;
        var tenantId = http.Tenant().Id;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await LockAsync(db, tenantId, applicationId, ct))
        {
            return ApplicationNotFound();
        }

        var entity = await db.Applications.FirstAsync(a => a.TenantId == tenantId && a.Id == applicationId, ct);
        var type = ApplicationRules.Parse(entity.Type);
        var errors = new ValidationErrors();
        var currentUris = ApplicationRules.ReadList(entity.RedirectUrisJson);
        var currentGrants = ApplicationRules.ReadList(entity.GrantTypesJson);
        if (input.RedirectUris is not null)
        {
            ApplicationRules.CheckRedirectUris(errors, type, input.RedirectUris);
        }

        var redirectUris = input.RedirectUris is null ? currentUris : ApplicationRules.DistinctUris(input.RedirectUris);
        if (input.RedirectUris is not null)
        {
            ApplicationRules.CheckRedirectUrisLength(errors, redirectUris);
        }

        var grants = input.GrantTypes is null ? currentGrants : ApplicationGrants.Normalize(input.GrantTypes);
        ApplicationRules.CheckCombination(errors, type, redirectUris, grants);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var changed = new List<string>();
        if (input.Name.Value is { } name && name != entity.Name)
        {
            entity.Name = name;
            changed.Add("name");
        }

        if (!redirectUris.SequenceEqual(currentUris, StringComparer.Ordinal))
        {
            entity.RedirectUrisJson = ApplicationRules.WriteList(redirectUris);
            changed.Add("redirect_uris");
        }

        if (!grants.SequenceEqual(currentGrants, StringComparer.Ordinal))
        {
            entity.GrantTypesJson = ApplicationRules.WriteList(grants);
            changed.Add("grant_types");
        }

        if (input.FirstParty is { } firstParty && firstParty != entity.FirstParty)
        {
            entity.FirstParty = firstParty;
            changed.Add("first_party");
        }

        // No default follows first_party on PATCH: consent_required changes only when given.
        if (input.ConsentRequired is { } consentRequired && consentRequired != entity.ConsentRequired)
        {
            entity.ConsentRequired = consentRequired;
            changed.Add("consent_required");
        }

        if (input.AssignmentRequired is { } assignmentRequired && assignmentRequired != entity.AssignmentRequired)
        {
            entity.AssignmentRequired = assignmentRequired;
            changed.Add("assignment_required");
        }

        if (changed.Count > 0)
        {
            var client = await clients.FindByClientIdAsync(entity.ClientId, ct)
                ?? throw new InvalidOperationException($"The OpenIddict client of application {entity.Id} is missing.");
            var descriptor = new OpenIddictApplicationDescriptor();
            await clients.PopulateAsync(descriptor, client, ct);
            ApplicationRules.Apply(descriptor, entity.Name, type, redirectUris, grants, entity.FirstParty);
            await clients.UpdateAsync(client, descriptor, ct);

            entity.UpdatedAt = time.UtcNow();
            audit.Record("application.updated", TargetType, entity.Id, tenantId, changed);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);

            // Sign-in reads the settings (consent, assignment) through a short cache; this instance applies them at once.
            ApplicationSignIn.Evict(cache, entity.ClientId);
        }

        return TypedResults.Ok(Envelope.Of(http, ToResponse(entity)));
    }

    private static async Task<IResult> DeleteAsync(
        [FromRoute(Name = "application_id")] string applicationId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] IOpenIddictApplicationManager clients,
        [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await LockAsync(db, tenantId, applicationId, ct))
        {
            return ApplicationNotFound();
        }

        var entity = await db.Applications.FirstAsync(a => a.TenantId == tenantId && a.Id == applicationId, ct);
        if (await clients.FindByClientIdAsync(entity.ClientId, ct) is { } client)
        {
            await clients.DeleteAsync(client, ct);
        }

        await OpenIdConnect.ClientRevocation.RevokeGrantsAsync(db, tenantId, entity.ClientId, time.UtcNow(), ct);

        // Assignments go with the row (foreign-key cascade).
        db.Applications.Remove(entity);
        audit.Record("application.deleted", TargetType, entity.Id, tenantId);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        // After the commit, so no request can cache the old binding, registration or grants again in between.
        OpenIdConnect.ClientRevocation.ForgetDeleted(http.RequestServices, entity.ClientId);
        ApplicationSignIn.Evict(http.RequestServices.GetRequiredService<Microsoft.Extensions.Caching.Memory.IMemoryCache>(), entity.ClientId);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> RotateSecretAsync(
        [FromRoute(Name = "application_id")] string applicationId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] IOpenIddictApplicationManager clients,
        [FromServices] AuditLog audit, [FromServices] IMemoryCache cache, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var tenantId = http.Tenant().Id;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await LockAsync(db, tenantId, applicationId, ct))
        {
            return ApplicationNotFound();
        }

        var entity = await db.Applications.FirstAsync(a => a.TenantId == tenantId && a.Id == applicationId, ct);
        if (!ApplicationRules.IsConfidential(ApplicationRules.Parse(entity.Type)))
        {
            return Problems.Conflict($"A {entity.Type} application is a public client and has no secret to rotate.");
        }

        var client = await clients.FindByClientIdAsync(entity.ClientId, ct)
            ?? throw new InvalidOperationException($"The OpenIddict client of application {entity.Id} is missing.");
        var secret = SecretGenerator.Token(32);
        await clients.UpdateAsync(client, secret, ct);
        entity.UpdatedAt = time.UtcNow();
        audit.Record("application.secret_rotated", TargetType, entity.Id, tenantId, ["client_secret"]);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        Caller.Evict(cache, PrincipalTypes.Client, entity.ClientId);
        return TypedResults.Ok(Envelope.Of(http, new ApplicationSecretResponse(entity.Id, entity.ClientId, secret)));
    }

    // ---- helpers ----

    private static Task<Application?> FindAsync(ScaiKeyDbContext db, string tenantId, string applicationId, CancellationToken ct) =>
        db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.TenantId == tenantId && a.Id == applicationId, ct);

    /// <summary>
    /// Inside a transaction, takes the application row's write lock (PostgreSQL row lock; SQLite's write lock), so
    /// concurrent changes to one application run one after the other; false when it is not in the tenant.
    /// </summary>
    private static async Task<bool> LockAsync(ScaiKeyDbContext db, string tenantId, string applicationId, CancellationToken ct) =>
        await db.Applications.Where(a => a.TenantId == tenantId && a.Id == applicationId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Name, a => a.Name), ct) > 0;

    private static string Describe(ApplicationAssignment a) => a.UserId is not null ? "user " + a.UserId : "group " + a.GroupId;

    private static ProblemResult ApplicationNotFound() => Problems.NotFound("Application not found.");

    private static ApplicationResponse ToResponse(Application a)
    {
        var type = ApplicationRules.Parse(a.Type);
        return new ApplicationResponse(a.Id, a.TenantId, a.Name, type, a.ClientId, ApplicationRules.ClientTypeOf(type),
            ApplicationRules.ReadList(a.RedirectUrisJson), ApplicationRules.ReadList(a.GrantTypesJson), a.FirstParty, a.ConsentRequired,
            a.AssignmentRequired, a.CreatedAt, a.UpdatedAt);
    }

    private static ApplicationAssignmentResponse ToResponse(ApplicationAssignment a) => new(a.Id, a.ApplicationId, a.UserId, a.GroupId, a.CreatedAt);
}
