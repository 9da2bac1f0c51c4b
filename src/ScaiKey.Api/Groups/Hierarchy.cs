using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;

namespace ScaiKey.Api.Groups;

/// <summary>Subtree walks over the tenant's OU and group trees (small next to the user table, read whole).</summary>
internal static class Hierarchy
{
    /// <summary>The OU and all its descendants, or null when the OU is not in the tenant.</summary>
    public static async Task<List<string>?> OuSubtreeAsync(ScaiKeyDbContext db, string tenantId, string ouId, CancellationToken ct)
    {
        var nodes = await db.OrganizationalUnits.AsNoTracking().Where(o => o.TenantId == tenantId)
            .Select(o => new { o.Id, o.ParentId }).ToListAsync(ct);
        return Subtree(nodes.Select(n => (n.Id, n.ParentId)), ouId);
    }

    /// <summary>The group and every group nested below it, or null when the group is not in the tenant.</summary>
    public static async Task<List<string>?> GroupSubtreeAsync(ScaiKeyDbContext db, string tenantId, string groupId, CancellationToken ct)
    {
        var nodes = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId)
            .Select(g => new { g.Id, g.ParentGroupId }).ToListAsync(ct);
        return Subtree(nodes.Select(n => (n.Id, n.ParentGroupId)), groupId);
    }

    public static List<string>? Subtree(IEnumerable<(string Id, string? ParentId)> nodes, string rootId)
    {
        var children = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var exists = false;
        foreach (var (id, parentId) in nodes)
        {
            exists |= id == rootId;
            if (parentId is not null)
            {
                if (!children.TryGetValue(parentId, out var list))
                {
                    children[parentId] = list = [];
                }

                list.Add(id);
            }
        }

        if (!exists)
        {
            return null;
        }

        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([rootId]);
        while (stack.TryPop(out var id))
        {
            if (!seen.Add(id))
            {
                continue;
            }

            result.Add(id);
            if (children.TryGetValue(id, out var list))
            {
                list.ForEach(stack.Push);
            }
        }

        return result;
    }

    /// <summary>True when making <paramref name="newParentId"/> the parent of <paramref name="id"/> would close a loop.</summary>
    public static bool WouldCycle(IReadOnlyDictionary<string, string?> parentOf, string id, string newParentId)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (string? current = newParentId; current is not null; current = parentOf.GetValueOrDefault(current))
        {
            if (current == id || !seen.Add(current))
            {
                return true;
            }
        }

        return false;
    }
}
