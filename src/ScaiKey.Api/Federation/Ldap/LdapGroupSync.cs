using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.SignIn;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Ldap;

/// <summary>
/// The group half of a sync: entries of group_filter become groups with identity_source LDAP, owned by the provider
/// and found again by their stable id (Group.ExternalId); their members are the synced users the member attribute
/// names (other DNs, such as nested groups or entries outside user_filter, are left out). A group name held by a
/// LOCAL group (or another provider's) is an error of the job, never an overwrite; a FULL run deletes the
/// provider's groups whose entries are gone.
/// </summary>
internal sealed class LdapGroupSync(LdapSyncWriter writer, AuditLog audit, TimeProvider time)
{
    private const int MemberBatch = 5000;
    private const int MaxMembersReadOneByOne = 2000;

    private sealed record GroupEntry(string ExternalId, string Name, string? Description, List<string> MemberDns);

    /// <summary>Returns the cursor, moved past the groups' modifyTimestamp.</summary>
    public async Task<string?> RunAsync(LdapDirectory directory, IdentityProvider provider, IdentityProviderSyncJob job, bool full, string? cursor,
        Dictionary<string, string> links, Dictionary<string, string> userByDn, LdapSyncCounts counts, CancellationToken ct)
    {
        var db = writer.Db;
        var settings = directory.Settings;
        var attributes = settings.Attributes;
        var tenantId = provider.TenantId;
        var filter = full ? settings.GroupFilter : $"(&{settings.GroupFilter}(modifyTimestamp>={LdapDirectory.Escape(provider.SyncCursor!)}))";
        var entries = new List<GroupEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var page in directory.SearchPages(filter, [attributes.Id, "cn", "description", attributes.Member, "modifyTimestamp"]))
        {
            foreach (var entry in page)
            {
                cursor = LdapSync.Later(cursor, LdapDirectory.First(entry, "modifyTimestamp"));
                var externalId = LdapDirectory.Id(entry, attributes.Id);
                var name = LdapDirectory.First(entry, "cn")?.Trim();
                if (externalId is null || externalId.Length > 500 || string.IsNullOrEmpty(name) || name.Length > 200)
                {
                    counts.Error($"{entry.DistinguishedName}: a group needs {attributes.Id} and a cn of at most 200 characters");
                    continue;
                }

                seen.Add(externalId);
                var description = LdapDirectory.First(entry, "description");
                entries.Add(new GroupEntry(externalId, name, description?.Length > 2000 ? description[..2000] : description,
                    LdapDirectory.All(entry, attributes.Member).ToList()));
            }
        }

        // An incremental run read only the changed users; a changed group may name unchanged ones. A few are read
        // one by one (a base-scope search each); more, by one light search of every user's id.
        var unknown = full ? [] : entries.SelectMany(e => e.MemberDns).Where(dn => !userByDn.ContainsKey(dn))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (unknown.Count is > 0 and <= MaxMembersReadOneByOne)
        {
            foreach (var dn in unknown)
            {
                if (directory.UserIdAt(dn) is { } subject && links.TryGetValue(subject, out var userId))
                {
                    userByDn[dn] = userId;
                }
            }
        }
        else if (unknown.Count > 0)
        {
            foreach (var page in directory.SearchPages(settings.UserFilter, [attributes.Id]))
            {
                foreach (var entry in page)
                {
                    if (LdapDirectory.Id(entry, attributes.Id) is { } subject && links.TryGetValue(subject, out var userId))
                    {
                        userByDn[entry.DistinguishedName] = userId;
                    }
                }
            }
        }

        var owned = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId && g.IdentityProviderId == provider.Id)
            .ToDictionaryAsync(g => g.ExternalId ?? g.Id, StringComparer.Ordinal, ct);
        var names = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId)
            .ToDictionaryAsync(g => g.Name, g => g.Id, StringComparer.Ordinal, ct);
        var now = time.UtcNow();
        var desired = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        int added = 0, renamed = 0;
        foreach (var entry in entries)
        {
            owned.TryGetValue(entry.ExternalId, out var group);
            if (names.TryGetValue(entry.Name, out var holder) && holder != group?.Id)
            {
                counts.Error($"group {entry.Name}: the name belongs to a group the directory does not own, which is left as is");
                if (group is null)
                {
                    continue;
                }
            }
            else if (group is null)
            {
                group = new Group
                {
                    Id = Ids.New(), TenantId = tenantId, Name = entry.Name, Description = entry.Description, CreatedAt = now,
                    IdentitySource = IdentitySource.Ldap, IdentityProviderId = provider.Id, ExternalId = entry.ExternalId,
                };
                db.Groups.Add(group);
                names[entry.Name] = group.Id;
                added++;
            }
            else if (group.Name != entry.Name || group.Description != entry.Description)
            {
                names.Remove(group.Name);
                names[entry.Name] = group.Id;
                group.Name = entry.Name;
                group.Description = entry.Description;
                group.UpdatedAt = now;
                db.Groups.Update(group);
                renamed++;
            }

            desired[group.Id] = entry.MemberDns.Select(dn => userByDn.GetValueOrDefault(dn)).OfType<string>().ToHashSet(StringComparer.Ordinal);
        }

        if (added + renamed > 0)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            audit.RecordAs(SignInService.SystemActor, LdapSync.AuditActor, "identity_provider.sync_groups", "identity_provider", provider.Id, tenantId,
                ["groups"], $"job {job.Id}: {added} groups created, {renamed} updated");
            db.ChangeTracker.DetectChanges();
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            db.ChangeTracker.Clear();
        }

        await WriteMembersAsync(tenantId, desired, now, ct);
        if (full)
        {
            await DeleteGoneAsync(provider, job, owned.Values.Where(g => !seen.Contains(g.ExternalId ?? g.Id)).ToList(), counts, ct);
        }

        return cursor;
    }

    private async Task WriteMembersAsync(string tenantId, Dictionary<string, HashSet<string>> desired, DateTime now, CancellationToken ct)
    {
        var db = writer.Db;
        var current = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var chunk in desired.Keys.Chunk(500))
        {
            var rows = await db.GroupMembers.AsNoTracking().Where(m => m.TenantId == tenantId && chunk.Contains(m.GroupId))
                .Select(m => new { m.GroupId, m.UserId }).ToListAsync(ct);
            foreach (var row in rows)
            {
                (current.TryGetValue(row.GroupId, out var set) ? set : current[row.GroupId] = new HashSet<string>(StringComparer.Ordinal)).Add(row.UserId);
            }
        }

        var adds = new List<GroupMember>();
        var removes = new List<(string, string)>();
        foreach (var (groupId, members) in desired)
        {
            var have = current.GetValueOrDefault(groupId) ?? [];
            adds.AddRange(members.Where(u => !have.Contains(u)).Select(u => new GroupMember { GroupId = groupId, UserId = u, TenantId = tenantId, CreatedAt = now }));
            removes.AddRange(have.Where(u => !members.Contains(u)).Select(u => (groupId, u)));
        }

        for (var i = 0; i < Math.Max(adds.Count, removes.Count); i += MemberBatch)
        {
            await writer.WriteMembersAsync(adds.Skip(i).Take(MemberBatch).ToList(), removes.Skip(i).Take(MemberBatch).ToList(), ct);
        }
    }

    /// <summary>The provider's groups a complete search no longer returned: deleted, unless a local group hangs below one.</summary>
    private async Task DeleteGoneAsync(IdentityProvider provider, IdentityProviderSyncJob job, List<Group> gone, LdapSyncCounts counts, CancellationToken ct)
    {
        var db = writer.Db;
        foreach (var group in gone)
        {
            if (await db.Groups.AnyAsync(g => g.TenantId == provider.TenantId && g.ParentGroupId == group.Id, ct))
            {
                counts.Error($"group {group.Name}: gone from the directory but other groups are nested below it; it is kept");
                continue;
            }

            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.Groups.Where(g => g.TenantId == provider.TenantId && g.Id == group.Id).ExecuteDeleteAsync(ct);
            audit.RecordAs(SignInService.SystemActor, LdapSync.AuditActor, "group.deleted", "group", group.Id, provider.TenantId,
                reason: $"Left the LDAP directory (identity provider {provider.Id}, job {job.Id})");
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
    }
}
