using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Groups;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Scim;

/// <summary>
/// SCIM Groups on ScaiKey's groups. A member is a user of the tenant (a group_members row) or a group of the tenant
/// (nested below this one: ScaiKey's groups form a tree, so a group is a member of one group at most). Membership
/// PATCHes (Entra ID and Okta add and remove members hundreds at a time) are applied as set operations in the
/// database without reading or rendering the group's members.
/// </summary>
internal sealed class ScimGroupService(ScaiKeyDbContext db, AuditLog audit, IOptions<ScimOptions> options, TimeProvider time) : IScimResources
{
    private const string NameConflict = "A group with this displayName already exists in this tenant.";

    public async Task<ScimOutcome> GetAsync(ScimRequest request, string id, IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded, CancellationToken ct)
    {
        var tenantId = request.Tenant.Id;
        var group = await db.Groups.AsNoTracking().FirstOrDefaultAsync(g => g.TenantId == tenantId && g.Id == id, ct);
        if (group is null)
        {
            return GroupNotFound();
        }

        var members = NeedsMembers(attributes, excluded) ? await MembersAsync(tenantId, [group.Id], ct) : null;
        var resource = ScimGroupMapping.Render(group, members?[group.Id].ToList(), request.BaseUrl);
        return new ScimOutcome(200, ScimLists.Project(resource, attributes, excluded, user: false), ScimGroupMapping.Version(group), null);
    }

    public async Task<ScimOutcome> ListAsync(ScimRequest request, ScimListRequest list, CancellationToken ct)
    {
        var tenantId = request.Tenant.Id;
        var query = db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId);
        if (!ScimListQuery.TryNarrow(db, query, list, ScimGroupQuery.TryTranslate, ScimGroupQuery.TryOrder, out query, out var ordered, out var error))
        {
            return ScimOutcome.Fail(error!);
        }

        var total = await query.CountAsync(ct);
        var count = Math.Min(list.Count, options.Value.MaxResults);
        var page = count == 0 ? [] : await ordered.Skip(list.StartIndex - 1).Take(count).ToListAsync(ct);
        var members = NeedsMembers(list.Attributes, list.ExcludedAttributes) && page.Count > 0
            ? await MembersAsync(tenantId, page.Select(g => g.Id).ToList(), ct)
            : null;
        var resources = new JsonArray();
        foreach (var group in page)
        {
            resources.Add(ScimLists.Project(ScimGroupMapping.Render(group, members?[group.Id].ToList(), request.BaseUrl),
                list.Attributes, list.ExcludedAttributes, user: false));
        }

        return new ScimOutcome(200, ScimLists.Response(total, list.StartIndex, resources), null, null);
    }

    public async Task<ScimOutcome> CreateAsync(ScimRequest request, JsonObject body, CancellationToken ct)
    {
        var fields = ScimGroupMapping.Read(body, out var error);
        if (fields is null)
        {
            return ScimOutcome.Fail(error!);
        }

        var tenantId = request.Tenant.Id;
        var group = new Group
        {
            Id = Ids.New(),
            TenantId = tenantId,
            Name = fields.DisplayName,
            ExternalId = fields.ExternalId,
            IdentitySource = IdentitySource.Scim,
            CreatedAt = ScimGroupMapping.Microseconds(time.UtcNow()),
        };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Groups.Add(group);
        audit.Record("group.created", "group", group.Id, tenantId, fields.ExternalId is null ? ["name"] : ["name", "external_id"]);
        if (await SaveAsync(ct) is { } failed)
        {
            return failed;
        }

        if (fields.Members is { Count: > 0 } && await ChangeMembersAsync(tenantId, group, fields.Members, [], ct) is { } refused)
        {
            return refused;
        }

        await transaction.CommitAsync(ct);
        return await RespondAsync(request, group, 201, ct);
    }

    public async Task<ScimOutcome> ReplaceAsync(ScimRequest request, string id, JsonObject body, string? ifMatch, CancellationToken ct)
    {
        var fields = ScimGroupMapping.Read(body, out var error);
        if (fields is null)
        {
            return ScimOutcome.Fail(error!);
        }

        var (group, refusal) = await FindForWriteAsync(request, id, ifMatch, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (await ReplaceFieldsAsync(request.Tenant.Id, group!, fields.DisplayName, fields.ExternalId, ct) is { } failed)
        {
            return failed;
        }

        // PUT replaces the resource: members absent means none (RFC 7644 §3.5.1).
        var wanted = fields.Members ?? [];
        var current = (await MembersAsync(request.Tenant.Id, [group!.Id], ct))[group.Id].Select(m => m.Id).ToList();
        if (await ChangeMembersAsync(request.Tenant.Id, group, wanted.Except(current).ToList(), current.Except(wanted).ToList(), ct) is { } refused)
        {
            return refused;
        }

        await transaction.CommitAsync(ct);
        return await RespondAsync(request, group, 200, ct);
    }

    public async Task<ScimOutcome> PatchAsync(ScimRequest request, string id, JsonObject body, string? ifMatch, CancellationToken ct)
    {
        if (!ScimPatch.TryParse(body, out var operations, out var parseError))
        {
            return ScimOutcome.Fail(parseError);
        }

        var (group, refusal) = await FindForWriteAsync(request, id, ifMatch, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var tenantId = request.Tenant.Id;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (ScimGroupPatchPlan.TryPlan(operations, out var plan))
        {
            // The common case, applied directly: membership changes and renames, whatever the group's size.
            foreach (var step in plan)
            {
                var failed = step switch
                {
                    ScimGroupPatchPlan.Rename rename => await ReplaceFieldsAsync(tenantId, group!, rename.DisplayName ?? group!.Name,
                        rename.ExternalId.IsSet ? rename.ExternalId.Value : group!.ExternalId, ct),
                    ScimGroupPatchPlan.Members members => await ApplyMembersAsync(tenantId, group!, members, ct),
                    _ => null,
                };
                if (failed is not null)
                {
                    return failed;
                }
            }
        }
        else
        {
            var members = await MembersAsync(tenantId, [group!.Id], ct);
            var current = ScimGroupMapping.Render(group, members[group.Id].ToList(), request.BaseUrl);
            if (!ScimPatch.TryApply(current, operations, ScimSchemas.GroupType, out var patched, out var applyError))
            {
                return ScimOutcome.Fail(applyError);
            }

            var fields = ScimGroupMapping.Read(patched, out var error);
            if (fields is null)
            {
                return ScimOutcome.Fail(error!);
            }

            if (await ReplaceFieldsAsync(tenantId, group, fields.DisplayName, fields.ExternalId, ct) is { } failed)
            {
                return failed;
            }

            var wanted = fields.Members ?? [];
            var had = members[group.Id].Select(m => m.Id).ToList();
            if (await ChangeMembersAsync(tenantId, group, wanted.Except(had).ToList(), had.Except(wanted).ToList(), ct) is { } refused)
            {
                return refused;
            }
        }

        await transaction.CommitAsync(ct);

        // Entra ID and Okta accept 204 for a PATCH; the group's members are not read back for a membership change.
        return new ScimOutcome(204, null, ScimGroupMapping.Version(group!), null);
    }

    public async Task<ScimOutcome> DeleteAsync(ScimRequest request, string id, string? ifMatch, CancellationToken ct)
    {
        var (group, refusal) = await FindForWriteAsync(request, id, ifMatch, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var tenantId = request.Tenant.Id;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);

        // Its nested groups stay and move to the top: they are members of the deleted group, not part of it.
        await db.Groups.Where(g => g.TenantId == tenantId && g.ParentGroupId == group!.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.ParentGroupId, (string?)null), ct);
        await db.GroupMembers.Where(m => m.TenantId == tenantId && m.GroupId == group!.Id).ExecuteDeleteAsync(ct);
        db.Groups.Remove(group!);
        audit.Record("group.deleted", "group", group!.Id, tenantId);
        if (await SaveAsync(ct) is { } failed)
        {
            return failed;
        }

        await transaction.CommitAsync(ct);
        return ScimOutcome.NoContent;
    }

    private async Task<ScimOutcome?> ApplyMembersAsync(string tenantId, Group group, ScimGroupPatchPlan.Members step, CancellationToken ct)
    {
        if (step.RemoveAll || step.ReplaceWith is not null)
        {
            var current = (await MembersAsync(tenantId, [group.Id], ct))[group.Id].Select(m => m.Id).ToList();
            var wanted = step.ReplaceWith ?? [];
            return await ChangeMembersAsync(tenantId, group, wanted.Except(current).ToList(), current.Except(wanted).ToList(), ct);
        }

        return await ChangeMembersAsync(tenantId, group, step.Add, step.Remove, ct);
    }

    private async Task<ScimOutcome?> ReplaceFieldsAsync(string tenantId, Group group, string name, string? externalId, CancellationToken ct)
    {
        var changed = new List<string>();
        if (group.Name != name)
        {
            group.Name = name;
            changed.Add("name");
        }

        if (group.ExternalId != externalId)
        {
            group.ExternalId = externalId;
            changed.Add("external_id");
        }

        if (changed.Count == 0)
        {
            return null;
        }

        group.UpdatedAt = ScimGroupMapping.Microseconds(time.UtcNow());
        audit.Record("group.updated", "group", group.Id, tenantId, changed);
        return await SaveAsync(ct);
    }

    /// <summary>Adds and removes members (users or groups of the tenant); ids of neither are refused, naming them.</summary>
    private async Task<ScimOutcome?> ChangeMembersAsync(string tenantId, Group group, IReadOnlyList<string> add, IReadOnlyList<string> remove, CancellationToken ct)
    {
        if (add.Count == 0 && remove.Count == 0)
        {
            return null;
        }

        var now = time.UtcNow();
        if (add.Count > 0)
        {
            var users = await db.Users.AsNoTracking().Where(u => u.TenantId == tenantId && u.DeletedAt == null && add.Contains(u.Id))
                .Select(u => u.Id).ToListAsync(ct);
            var groupIds = add.Except(users).ToList();
            var groups = groupIds.Count == 0 ? [] : await db.Groups.Where(g => g.TenantId == tenantId && groupIds.Contains(g.Id)).ToListAsync(ct);
            var unknown = groupIds.Except(groups.Select(g => g.Id)).ToList();
            if (unknown.Count > 0)
            {
                return ScimOutcome.Fail(ScimError.InvalidValue($"No user or group of this tenant has the id {string.Join(", ", unknown.Take(5))}."));
            }

            var already = await db.GroupMembers.AsNoTracking().Where(m => m.GroupId == group.Id && users.Contains(m.UserId)).Select(m => m.UserId).ToListAsync(ct);
            foreach (var userId in users.Except(already))
            {
                db.GroupMembers.Add(new GroupMember { GroupId = group.Id, UserId = userId, TenantId = tenantId, CreatedAt = now });
                audit.Record("group.member_added", "group", group.Id, tenantId, ["members"], reason: "user " + userId);
            }

            if (groups.Count > 0 && await NestAsync(tenantId, group, groups, ct) is { } refused)
            {
                return refused;
            }
        }

        if (remove.Count > 0)
        {
            var removedUsers = await db.GroupMembers.Where(m => m.TenantId == tenantId && m.GroupId == group.Id && remove.Contains(m.UserId))
                .Select(m => m.UserId).ToListAsync(ct);
            if (removedUsers.Count > 0)
            {
                await db.GroupMembers.Where(m => m.TenantId == tenantId && m.GroupId == group.Id && removedUsers.Contains(m.UserId)).ExecuteDeleteAsync(ct);
            }

            var removedGroups = await db.Groups.Where(g => g.TenantId == tenantId && g.ParentGroupId == group.Id && remove.Contains(g.Id)).ToListAsync(ct);
            foreach (var child in removedGroups)
            {
                child.ParentGroupId = null;
                child.UpdatedAt = ScimGroupMapping.Microseconds(now);
            }

            foreach (var (kind, id) in removedUsers.Select(u => ("user", u)).Concat(removedGroups.Select(g => ("group", g.Id))))
            {
                audit.Record("group.member_removed", "group", group.Id, tenantId, ["members"], reason: kind + " " + id);
            }
        }

        group.UpdatedAt = ScimGroupMapping.Microseconds(now);
        return await SaveAsync(ct);
    }

    /// <summary>Groups as members: nested below this group, refused if already nested elsewhere or if it would make a cycle.</summary>
    private async Task<ScimOutcome?> NestAsync(string tenantId, Group group, List<Group> children, CancellationToken ct)
    {
        var parents = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId).ToDictionaryAsync(g => g.Id, g => g.ParentGroupId, ct);
        foreach (var child in children)
        {
            if (child.ParentGroupId == group.Id)
            {
                continue;
            }

            if (child.ParentGroupId is not null)
            {
                return ScimOutcome.Fail(ScimError.InvalidValue(
                    $"The group {child.Id} is already a member of another group; a ScaiKey group is nested in one group at most."));
            }

            if (child.Id == group.Id || Hierarchy.WouldCycle(parents, child.Id, group.Id))
            {
                return ScimOutcome.Fail(ScimError.InvalidValue($"Adding the group {child.Id} would make a group a member of itself."));
            }

            if (Hierarchy.WouldBeTooDeep(parents, child.Id, group.Id))
            {
                return ScimOutcome.Fail(ScimError.InvalidValue($"Adding the group {child.Id} would nest groups more than {Hierarchy.MaxGroupDepth} levels deep."));
            }

            child.ParentGroupId = group.Id;
            child.UpdatedAt = ScimGroupMapping.Microseconds(time.UtcNow());
            parents[child.Id] = group.Id;
            audit.Record("group.member_added", "group", group.Id, tenantId, ["members"], reason: "group " + child.Id);
        }

        return null;
    }

    private async Task<ScimOutcome> RespondAsync(ScimRequest request, Group group, int status, CancellationToken ct)
    {
        var members = await MembersAsync(request.Tenant.Id, [group.Id], ct);
        return new ScimOutcome(status, ScimGroupMapping.Render(group, members[group.Id].ToList(), request.BaseUrl), ScimGroupMapping.Version(group), null,
            status == 201 ? $"{request.BaseUrl}/Groups/{group.Id}" : null);
    }

    private async Task<(Group? Group, ScimOutcome? Refusal)> FindForWriteAsync(ScimRequest request, string id, string? ifMatch, CancellationToken ct)
    {
        var tenantId = request.Tenant.Id;
        var group = await db.Groups.FirstOrDefaultAsync(g => g.TenantId == tenantId && g.Id == id, ct);
        if (group is null)
        {
            return (null, GroupNotFound());
        }

        return ScimResults.IfMatchAllows(ifMatch, ScimGroupMapping.Version(group)) ? (group, null) : (null, ScimOutcome.PreconditionFailed());
    }

    /// <summary>Members of groups: users by membership row (live users only) and the groups nested directly below.</summary>
    private async Task<ILookup<string, ScimMember>> MembersAsync(string tenantId, List<string> groupIds, CancellationToken ct)
    {
        var users = await (from m in db.GroupMembers.AsNoTracking()
                           join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                           where m.TenantId == tenantId && u.TenantId == tenantId && u.DeletedAt == null && groupIds.Contains(m.GroupId)
                           orderby u.Id
                           select new { m.GroupId, u.Id, Display = u.DisplayName ?? u.Email }).ToListAsync(ct);
        var groups = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId && g.ParentGroupId != null && groupIds.Contains(g.ParentGroupId))
            .OrderBy(g => g.Id).Select(g => new { GroupId = g.ParentGroupId!, g.Id, g.Name }).ToListAsync(ct);
        return users.Select(u => (u.GroupId, Member: new ScimMember(u.Id, "User", u.Display)))
            .Concat(groups.Select(g => (g.GroupId, Member: new ScimMember(g.Id, "Group", g.Name))))
            .ToLookup(x => x.GroupId, x => x.Member);
    }

    private static bool NeedsMembers(IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded) =>
        attributes is { Count: > 0 }
            ? attributes.Any(a => a.Contains("members", StringComparison.OrdinalIgnoreCase))
            : excluded?.Any(a => string.Equals(a, "members", StringComparison.OrdinalIgnoreCase)) != true;

    private async Task<ScimOutcome?> SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            db.ChangeTracker.Clear();
            return ScimOutcome.Uniqueness(NameConflict);
        }
        catch (DbUpdateException ex) when (DbErrors.IsForeignKeyViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ScimOutcome.Fail(new ScimError(409, null, DbErrors.ConcurrentDeleteDetail));
        }
    }

    public static ScimOutcome GroupNotFound() => ScimOutcome.NotFound("Group not found.");
}
